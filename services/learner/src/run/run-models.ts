import {
  isModelError,
  loadModelConfig,
  loadModelTokenizer,
  type ModelTokenizer,
  modelTrainingFor,
} from '@verdict/models';
import { VerdictError } from '@verdict/runtime';
import type { ValidRunConfig } from '../run-config/run-config.js';

/** Runs `load`, turning an engine error into INVALID_ARGUMENT on the run-config field that named the folder. */
function checked<T>(field: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!isModelError(error)) throw error;
    throw new VerdictError('INVALID_ARGUMENT', `${field}: ${error.message}`, { field, cause: error });
  }
}

/**
 * Checks at StartRun what the policy worker loads only once the run is under way: the student (and
 * a separate reference) must be a registered family with a training graph (Llama, OPT/Galactica,
 * ...; `modelTrainingFor`), and the reference must share the student's vocabulary, since the KL
 * compares their log-probs of the same token ids. Without this an unsupported `model_type` would
 * start the run and fail it asynchronously. Only config.json is read here (the weights load later);
 * returns the student's tokenizer, which the learner needs to encode text prompts.
 */
export function checkRunModels(config: ValidRunConfig): ModelTokenizer {
  const studentField = 'student.checkpointUri';
  const student = checked(studentField, () => loadModelConfig(config.student.checkpointUri));
  checked(studentField, () => modelTrainingFor(student));
  const referenceDir = config.reference.checkpointUri;
  if (referenceDir !== config.student.checkpointUri) {
    const field = 'reference.checkpointUri';
    const reference = checked(field, () => loadModelConfig(referenceDir));
    checked(field, () => modelTrainingFor(reference));
    if (reference.vocabSize !== student.vocabSize) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `${field}: the reference's vocab_size ${reference.vocabSize} must equal the student's ${student.vocabSize}`,
        { field },
      );
    }
  }
  return checked(studentField, () => loadModelTokenizer(config.student.checkpointUri));
}
