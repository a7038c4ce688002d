/** One file of a dataset as published upstream, pinned to a commit. */
export interface DatasetSourceFile {
  /** Path inside the data directory, e.g. `gsm8k/test.jsonl` (the layout the readers expect). */
  readonly file: string;
  readonly url: string;
  /**
   * sha256 of the exact bytes, or `null` when unknown. The known values were computed from the
   * copies in `../shared/datasets`, whose READMEs record them as copies of these commits; the
   * hosts cannot be reached from this workplace, so they were not re-checked against the network.
   */
  readonly sha256: string | null;
  /** Size in bytes, or `null` when unknown. Checked when `sha256` is unknown. */
  readonly bytes: number | null;
  /** Not needed by any reader; pulled only on request. */
  readonly optional?: boolean;
}

const GSM8K =
  'https://raw.githubusercontent.com/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c';
const SVAMP = 'https://raw.githubusercontent.com/arkilpatel/SVAMP/689d7ccac74b9983a2ac7cc3b264f441b99e7c53';
const GSM_PLUS = 'https://raw.githubusercontent.com/qtli/GSM-Plus/3474129ec12fcd3e8ac08cb037aca1928efca98c';
const PAL =
  'https://raw.githubusercontent.com/reasoning-machines/pal/f81ca2a9777f002f98a6b4d0f10b61bd5c8feb02';

/**
 * Public sources of every dataset the readers use. GSM-Plus's own `LICENSE` in the shared copy
 * was written locally (the upstream repo has none; the Hugging Face card says CC-BY-SA-4.0),
 * so it is not pulled.
 */
export const DATASET_SOURCES: readonly DatasetSourceFile[] = [
  {
    file: 'gsm8k/train.jsonl',
    url: `${GSM8K}/grade_school_math/data/train.jsonl`,
    sha256: '17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465',
    bytes: 4166206,
  },
  {
    file: 'gsm8k/test.jsonl',
    url: `${GSM8K}/grade_school_math/data/test.jsonl`,
    sha256: '3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14',
    bytes: 749738,
  },
  {
    file: 'gsm8k/test_socratic.jsonl',
    url: `${GSM8K}/grade_school_math/data/test_socratic.jsonl`,
    sha256: 'c96673362fa7a699f4836a9b6474a067448f95fe58064727501ee63ba4c3fdb6',
    bytes: 972978,
  },
  {
    file: 'gsm8k/LICENSE',
    url: `${GSM8K}/LICENSE`,
    sha256: '86bbb73e855821d7c401912fd4bf82e34313e6e3b6fd6f909f2b6cc9e209a53b',
    bytes: 1062,
  },
  // Not in the shared copy (over the snapshot's size limit): checksum and size unknown.
  {
    file: 'gsm8k/train_socratic.jsonl',
    url: `${GSM8K}/grade_school_math/data/train_socratic.jsonl`,
    sha256: null,
    bytes: null,
    optional: true,
  },
  {
    file: 'svamp/SVAMP.json',
    url: `${SVAMP}/SVAMP.json`,
    sha256: '5be77703a6d891ae476d7c082787ad361392aa02453b132516cdd5f4e7934e3e',
    bytes: 339970,
  },
  {
    file: 'svamp/LICENSE',
    url: `${SVAMP}/LICENSE`,
    sha256: '07ce3a34de7a865345634f9278bc26ddcacc2d0defd348c28e3f4603448b9ba4',
    bytes: 1068,
  },
  {
    file: 'gsm-plus/gsmplus_testmini.jsonl',
    url: `${GSM_PLUS}/dataset/gsmplus_testmini.jsonl`,
    sha256: '6653b4b941956da12ba0af2eae660800db13a901123553b163b77be2d20eb7d5',
    bytes: 3128556,
  },
  // The full GSM-Plus test split (10,552 records) is not in the shared copy: unknown.
  {
    file: 'gsm-plus/gsmplus_test.jsonl',
    url: `${GSM_PLUS}/dataset/gsmplus_test.jsonl`,
    sha256: null,
    bytes: null,
    optional: true,
  },
  {
    file: 'gsm-hard/gsmhardv2.jsonl',
    url: `${PAL}/datasets/gsmhardv2.jsonl`,
    sha256: '2032b0188a49ac0ec38cbe1e695e7d62d6dddc44bbb64f920728aca710e9ddef',
    bytes: 1138151,
  },
  {
    file: 'gsm-hard/LICENSE',
    url: `${PAL}/LICENSE`,
    sha256: 'c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4',
    bytes: 11357,
  },
  {
    file: 'mawps/mawpsaddsub.jsonl',
    url: `${PAL}/datasets/mawpsaddsub.jsonl`,
    sha256: '2fae2c92530cdf1ac0487db9a90e68d6af84049d755c07c4486411c1d7f43e75',
    bytes: 70911,
  },
  {
    file: 'mawps/mawpsmultiarith.jsonl',
    url: `${PAL}/datasets/mawpsmultiarith.jsonl`,
    sha256: '12e8295088364af21fb6591dbdbd1dda452aade57227f63d725677471ded2951',
    bytes: 109522,
  },
  {
    file: 'mawps/mawpssingleeq.jsonl',
    url: `${PAL}/datasets/mawpssingleeq.jsonl`,
    sha256: '07bec92bae226dd5231a966e907a0f097ba3170a1557c73ceeb135caad8d09f8',
    bytes: 86536,
  },
  {
    file: 'mawps/mawpssingleop.jsonl',
    url: `${PAL}/datasets/mawpssingleop.jsonl`,
    sha256: 'feb012e7ed5503cdb96fd127d539692b033000e9134655acaf4f4e0091328e94',
    bytes: 75278,
  },
  {
    file: 'mawps/LICENSE',
    url: `${PAL}/LICENSE`,
    sha256: 'c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4',
    bytes: 11357,
  },
];
