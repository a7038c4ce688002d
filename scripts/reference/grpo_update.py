#!/usr/bin/env python3
"""Independent PyTorch reference for one GRPO update on the stories260k checkpoint.

Writes libs/rl/test/fixtures/grpo-update-reference.json, which
libs/rl/test/grpo-update-reference.test.ts compares with the project's policy worker
(@verdict/rl createPolicyWorker: score, update). Nothing here imports or reads project code: the
Llama forward, the GRPO advantages, the PPO-clip surrogate and its aggregation are written from
their definitions (HF LlamaForCausalLM; DeepSeekMath §4.1.2; Schulman et al. 2017), and the
optimizer is torch.optim.AdamW with torch.nn.utils.clip_grad_norm_. Everything runs in float64 on
the checkpoint's float32 weights, so the fixture holds the exact math and the test's tolerances
measure the project's float32 error.

What the fixture checks (see scripts/reference/README.md):
  * 2 prompts x G=4 completions (fixed token ids, different prompt and completion lengths,
    right padding), fixed rewards with variance inside each group;
  * GRPO advantages (r - mean) / (std + 1e-6), std with Bessel's correction (torch.std);
  * behaviour ("old") log-probs = current log-probs + a fixed per-token offset, so the ratio is
    exp(-offset) on the first update and the clip is active on some tokens of either advantage sign;
  * loss = aggregate(max(-A*r, -A*clip(r, 1-0.2, 1+0.2))), token-mean (the project's default) and
    sequence-mean; no KL, no entropy;
  * gradients (global and per-tensor norms, ~20 sampled entries per tensor), global-norm clipping,
    one AdamW step (weight decay on matrices and embeddings, none on RMSNorm weights), and for
    token-mean a second update on the same batch (PPO epoch 2: ratio != 1, non-zero Adam moments).

Usage (Debian: apt-get install python3-torch; no pip packages needed):
    /usr/bin/python3 scripts/reference/grpo_update.py [--shared DIR] [--out FILE]
"""

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import struct
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "libs", "rl", "test", "fixtures", "grpo-update-reference.json")

# Hyper-parameters of the update (the test passes the same ones to the policy worker).
HYPER = {
    "learning_rate": 1e-3,
    "beta1": 0.9,
    "beta2": 0.999,
    "epsilon": 1e-8,
    "weight_decay": 0.1,
    "max_grad_norm": 1.0,
    "clip_low": 0.2,
    "clip_high": 0.2,
    "advantage_epsilon": 1e-6,
    "advantage_std": "sample (n - 1, torch.std default)",
    "kl_coef": 0.0,
    "entropy_coef": 0.0,
}

# Group k: prompt PROMPTS[k] and G = 4 completions. Token ids of stories260k's tokenizer: the
# prompts and the first continuations are "Once upon a time" / "The cat" and their greedy
# continuations from the checkpoint's reference.json; the rest are arbitrary ids (low log-probs).
PROMPTS = [
    [1, 403, 407, 261, 378],  # <s> Once upon a time
    [1, 291, 280, 294],  # <s> The cat
]
COMPLETIONS = [
    [
        [432, 383, 286, 261, 376, 298, 315],  # , there was a little g ir
        [432, 383, 286, 77, 498],
        [350, 12, 431, 260, 433],
        [432, 2],  # , </s>
    ],
    [
        [269, 261, 268, 414],
        [269, 261, 268, 414, 422, 382, 276, 337],
        [500, 291, 3],
        [269, 440, 100, 261, 268, 2],
    ],
]
REWARDS = [
    [1.0, 0.0, 0.25, 0.0],
    [0.5, 1.0, 0.0, 0.75],
]
# Per-token offset of the behaviour log-probs: log pi_old = log pi + delta, ratio = exp(-delta) on
# the first update. |delta| values stay away from the clip edges (log 1.2 = 0.182, -log 0.8 = 0.223).
DELTAS = [-0.40, 0.12, -0.25, 0.30, 0.05, -0.12, 0.45, 0.0, -0.08, 0.16]
SAMPLES_PER_TENSOR = 20


def shared_dir(arg):
    if arg:
        return arg
    env = os.environ.get("VERDICT_SHARED_DIR")
    if env:
        return env
    return os.path.join(os.path.dirname(REPO), "shared")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def load_safetensors(path):
    """Minimal safetensors reader (8-byte little-endian header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{name}: dtype {info['dtype']} (expected F32)")
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out


class Llama:
    """HF LlamaForCausalLM forward (eval mode) over a dict of tensors (float64, or float32 for the noise estimate)."""

    def __init__(self, cfg):
        if cfg.get("rope_scaling") not in (None, {}):
            raise SystemExit("rope_scaling is not supported by this reference")
        self.hidden = cfg["hidden_size"]
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.head_dim = cfg.get("head_dim", self.hidden // self.heads)
        self.eps = cfg["rms_norm_eps"]
        self.theta = cfg.get("rope_theta", 10000.0)
        self.tied = cfg.get("tie_word_embeddings", False)
        if cfg.get("attention_bias") or cfg.get("mlp_bias"):
            raise SystemExit("biases are not supported by this reference")
        # The parameters of RMSNorm modules: with biases (none here), what AdamW does not decay.
        self.norm_params = {"model.norm.weight"}
        for layer in range(self.layers):
            self.norm_params.add(f"model.layers.{layer}.input_layernorm.weight")
            self.norm_params.add(f"model.layers.{layer}.post_attention_layernorm.weight")

    def rms_norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def logits(self, P, input_ids, attention_mask, position_ids):
        B, T = input_ids.shape
        nh, nkv, hd = self.heads, self.kv_heads, self.head_dim
        x = P["model.embed_tokens.weight"][input_ids]  # [B,T,H]
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        freqs = position_ids.to(torch.float64)[..., None] * inv_freq  # [B,T,hd/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None].to(x.dtype), emb.sin()[:, None].to(x.dtype)  # [B,1,T,hd]
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        allowed = causal[None, None] & attention_mask.bool()[:, None, None, :]  # [B,1,T,T]
        for layer in range(self.layers):
            pre = f"model.layers.{layer}."
            h = self.rms_norm(x, P[pre + "input_layernorm.weight"])
            q = (h @ P[pre + "self_attn.q_proj.weight"].T).view(B, T, nh, hd).transpose(1, 2)
            k = (h @ P[pre + "self_attn.k_proj.weight"].T).view(B, T, nkv, hd).transpose(1, 2)
            v = (h @ P[pre + "self_attn.v_proj.weight"].T).view(B, T, nkv, hd).transpose(1, 2)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            # repeat_kv: query head i uses kv head i // (nh / nkv).
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            scores = scores.masked_fill(~allowed, float("-inf"))
            attn = torch.softmax(scores, dim=-1) @ v  # [B,nh,T,hd]
            attn = attn.transpose(1, 2).reshape(B, T, nh * hd)
            x = x + attn @ P[pre + "self_attn.o_proj.weight"].T
            h = self.rms_norm(x, P[pre + "post_attention_layernorm.weight"])
            gate = torch.nn.functional.silu(h @ P[pre + "mlp.gate_proj.weight"].T)
            up = h @ P[pre + "mlp.up_proj.weight"].T
            x = x + (gate * up) @ P[pre + "mlp.down_proj.weight"].T
        x = self.rms_norm(x, P["model.norm.weight"])
        head = P["model.embed_tokens.weight"] if self.tied else P["lm_head.weight"]
        return x @ head.T

    def token_logprobs(self, P, batch):
        logits = self.logits(P, batch["input_ids"], batch["attention_mask"], batch["position_ids"])
        logp = torch.log_softmax(logits, dim=-1)
        return logp.gather(-1, batch["targets"][..., None]).squeeze(-1)


def build_batch():
    """Right-padded rows prompt ++ completion; position t predicts token t+1; the loss covers the completion."""
    rows, prompt_lens = [], []
    for k, prompt in enumerate(PROMPTS):
        for completion in COMPLETIONS[k]:
            rows.append(prompt + completion)
            prompt_lens.append(len(prompt))
    B = len(rows)
    T = max(len(r) for r in rows) - 1
    input_ids = torch.zeros(B, T, dtype=torch.long)
    attention_mask = torch.zeros(B, T, dtype=torch.long)
    targets = torch.zeros(B, T, dtype=torch.long)
    loss_mask = torch.zeros(B, T, dtype=torch.float64)
    for b, r in enumerate(rows):
        n = len(r) - 1
        input_ids[b, :n] = torch.tensor(r[:-1])
        attention_mask[b, :n] = 1
        targets[b, :n] = torch.tensor(r[1:])
        loss_mask[b, prompt_lens[b] - 1 : n] = 1
    # HF: position_ids = cumsum(mask) - 1, padding positions -> 1.
    position_ids = attention_mask.cumsum(-1) - 1
    position_ids = position_ids.masked_fill(attention_mask == 0, 1)
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "position_ids": position_ids,
        "targets": targets,
        "loss_mask": loss_mask,
    }


def grpo_advantages(rewards):
    """Per group: (r - mean) / (std + eps), std with Bessel's correction."""
    out, stats = [], []
    for group in rewards:
        r = torch.tensor(group, dtype=torch.float64)
        mean, std = r.mean(), r.std()  # torch.std: unbiased (n - 1)
        out.extend(((r - mean) / (std + HYPER["advantage_epsilon"])).tolist())
        stats.append({"mean": mean.item(), "std": std.item()})
    return out, stats


def policy_loss(logprobs, old, adv, mask, aggregation):
    ratio = torch.exp(logprobs - old)
    unclipped = -adv * ratio
    clipped = -adv * torch.clamp(ratio, 1 - HYPER["clip_low"], 1 + HYPER["clip_high"])
    pg = torch.max(unclipped, clipped)
    if aggregation == "token-mean":
        loss = (pg * mask).sum() / mask.sum()
    elif aggregation == "sequence-mean":
        counts = mask.sum(-1)
        per_row = (pg * mask).sum(-1) / counts.clamp(min=1)
        loss = per_row[counts > 0].mean()
    else:
        raise ValueError(aggregation)
    active = (clipped > unclipped).to(mask.dtype)
    clip_fraction = (active * mask).sum() / mask.sum()
    return loss, clip_fraction.item(), ratio.detach()


def sample_indices(size, seed, extra=()):
    """SAMPLES_PER_TENSOR distinct flat indices from an LCG (plus `extra`), sorted."""
    s = (seed * 2654435761 + 12345) % 2**32
    picked = set(i for i in extra if i < size)
    want = min(size, SAMPLES_PER_TENSOR + len(picked))
    while len(picked) < want:
        s = (1664525 * s + 1013904223) % 2**32
        picked.add(s % size)
    return sorted(picked)


def g12(x):
    """Compact float for JSON: 12 significant digits (float64 reference values)."""
    return float(f"{x:.12g}")


def run_update(model, P0, batch, old, adv_tokens, aggregation, steps, samples):
    params = {n: p.clone().requires_grad_(True) for n, p in P0.items()}
    decay = [p for n, p in params.items() if n not in model.norm_params and not n.endswith(".bias")]
    no_decay = [p for n, p in params.items() if n in model.norm_params or n.endswith(".bias")]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": HYPER["weight_decay"]},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=HYPER["learning_rate"],
        betas=(HYPER["beta1"], HYPER["beta2"]),
        eps=HYPER["epsilon"],
    )
    mask = batch["loss_mask"]
    attended = batch["attention_mask"].bool()
    records = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        logprobs = model.token_logprobs(params, batch)
        loss, clip_fraction, ratio = policy_loss(logprobs, old, adv_tokens, mask, aggregation)
        loss.backward()
        grads = {n: p.grad.detach().clone() for n, p in params.items()}
        grad_norm = torch.nn.utils.clip_grad_norm_(list(params.values()), HYPER["max_grad_norm"]).item()
        opt.step()
        r = ratio[mask > 0].to(torch.float64)
        edges = torch.tensor([1 - HYPER["clip_low"], 1 + HYPER["clip_high"]], dtype=torch.float64)
        records.append(
            {
                "logprobs": [
                    g12(v) if a else 0.0
                    for v, a in zip(logprobs.detach().flatten().tolist(), attended.flatten().tolist())
                ],
                "loss": g12(loss.item()),
                "clip_fraction": g12(clip_fraction),
                "ratio_mean": g12((ratio * mask).sum().item() / mask.sum().item()),
                "min_ratio_distance_to_clip_edges": g12((r[:, None] - edges[None]).abs().min().item()),
                "grad_norm": g12(grad_norm),
                "grad_norms": {n: g12(g.norm().item()) for n, g in grads.items()},
                "grad_samples": {
                    n: [g12(v) for v in grads[n].flatten()[samples[n]].tolist()] for n in params
                },
                "params_after": {
                    n: [g12(v) for v in params[n].detach().flatten()[samples[n]].tolist()] for n in params
                },
            }
        )
    return records


def float32_deviation(model, P0, batch, old, adv_tokens, aggregation, samples, reference):
    """The same update(s) in float32 torch: how far a correct float32 implementation lands from float64."""
    P32 = {n: p.to(torch.float32) for n, p in P0.items()}
    b32 = dict(batch, loss_mask=batch["loss_mask"].to(torch.float32))
    runs = run_update(
        model, P32, b32, old.to(torch.float32), adv_tokens.to(torch.float32), aggregation, len(reference), samples
    )
    attended = batch["attention_mask"].flatten().tolist()
    out = []
    for r32, r64 in zip(runs, reference):
        rms = {n: r64["grad_norms"][n] / math.sqrt(P0[n].numel()) for n in P0}
        out.append(
            {
                "logprobs_max_abs": max(
                    abs(a - b) for a, b, m in zip(r32["logprobs"], r64["logprobs"], attended) if m
                ),
                "loss_rel": abs(r32["loss"] - r64["loss"]) / abs(r64["loss"]),
                "grad_norm_rel": abs(r32["grad_norm"] - r64["grad_norm"]) / r64["grad_norm"],
                "grad_norms_max_rel": max(
                    abs(r32["grad_norms"][n] - r64["grad_norms"][n]) / r64["grad_norms"][n] for n in P0
                ),
                "grad_samples_max_abs_over_rms": max(
                    abs(a - b) / rms[n]
                    for n in P0
                    for a, b in zip(r32["grad_samples"][n], r64["grad_samples"][n])
                ),
                "params_after_max_abs_over_lr": max(
                    abs(a - b) / HYPER["learning_rate"]
                    for n in P0
                    for a, b in zip(r32["params_after"][n], r64["params_after"][n])
                ),
            }
        )
    return [{k: float(f"{v:.3g}") for k, v in o.items()} for o in out]


def check_against_checkpoint_reference(model, P, shared):
    """Sanity check of this forward against the checkpoint's own reference.json (independent numpy forward)."""
    path = os.path.join(shared, "fixtures", "stories260k", "reference.json")
    ref = json.load(open(path))
    worst = 0.0
    for case in ref["cases"]:
        ids = case["input_ids"] + case["generated_ids"]
        n = len(ids) - 1
        batch = {
            "input_ids": torch.tensor([ids[:-1]]),
            "attention_mask": torch.ones(1, n, dtype=torch.long),
            "position_ids": torch.arange(n)[None],
            "targets": torch.tensor([ids[1:]]),
        }
        with torch.no_grad():
            lp = model.token_logprobs(P, batch)[0]
        p0 = len(case["input_ids"]) - 1
        got = lp[p0 : p0 + len(case["generated_logprobs"])]
        diff = (got - torch.tensor(case["generated_logprobs"], dtype=torch.float64)).abs().max().item()
        worst = max(worst, diff)
    if worst > 2e-6:
        raise SystemExit(f"forward disagrees with reference.json: max |dlogp| {worst}")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", help="the shared data folder (default $VERDICT_SHARED_DIR or ../shared)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    shared = shared_dir(args.shared)
    model_dir = os.path.join(shared, "fixtures", "stories260k")
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    model = Llama(cfg)
    P0 = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    sanity = check_against_checkpoint_reference(model, P0, shared)

    batch = build_batch()
    B, T = batch["input_ids"].shape
    mask = batch["loss_mask"]
    advantages, group_stats = grpo_advantages(REWARDS)
    adv_tokens = torch.tensor(advantages, dtype=torch.float64)[:, None] * mask

    with torch.no_grad():
        lp0 = model.token_logprobs(P0, batch)
    old = torch.zeros(B, T, dtype=torch.float64)
    k = 0
    for b in range(B):
        for t in range(T):
            if mask[b, t] > 0:
                # Rounded to float32: the test feeds exactly these values to the float32 graph.
                old[b, t] = float(np.float32(lp0[b, t].item() + DELTAS[(3 * k + b) % len(DELTAS)]))
                k += 1

    samples = {}
    embed_extra = []
    used = sorted(set(batch["input_ids"][batch["attention_mask"] > 0].tolist()))
    hidden = cfg["hidden_size"]
    for j, tok in enumerate(used[:: max(1, len(used) // 4)][:4]):
        embed_extra.append(tok * hidden + (7 * j) % hidden)
    for i, (name, p) in enumerate(P0.items()):
        samples[name] = sample_indices(p.numel(), i, embed_extra if name == "model.embed_tokens.weight" else ())

    token_mean = run_update(model, P0, batch, old, adv_tokens, "token-mean", 2, samples)
    sequence_mean = run_update(model, P0, batch, old, adv_tokens, "sequence-mean", 1, samples)

    noise = {
        "token_mean": float32_deviation(model, P0, batch, old, adv_tokens, "token-mean", samples, token_mean),
        "sequence_mean": float32_deviation(
            model, P0, batch, old, adv_tokens, "sequence-mean", samples, sequence_mean
        ),
    }

    script_path = os.path.abspath(__file__)
    fixture = {
        "description": "One GRPO update (and a second on the same batch) of stories260k, computed by "
        "scripts/reference/grpo_update.py in float64 PyTorch, independently of the project's code. "
        "Flat arrays are row-major [batch_size, seq_len].",
        "generator": {
            "script": os.path.relpath(script_path, REPO),
            "script_sha256": sha256_file(script_path),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "dtype": "float64",
            "forward_vs_checkpoint_reference_json_max_abs_logprob_diff": sanity,
        },
        "model": {
            "dir": "fixtures/stories260k",
            "model_safetensors_sha256": sha256_file(os.path.join(model_dir, "model.safetensors")),
        },
        "hyper": HYPER,
        "no_decay": sorted(n for n in P0 if n in model.norm_params or n.endswith(".bias")),
        "batch": {
            "batch_size": B,
            "seq_len": T,
            "groups": [[k * 4 + i for i in range(4)] for k in range(len(PROMPTS))],
            "prompt_lengths": [len(p) for p in PROMPTS for _ in range(4)],
            "input_ids": batch["input_ids"].flatten().tolist(),
            "attention_mask": batch["attention_mask"].flatten().tolist(),
            "position_ids": batch["position_ids"].flatten().tolist(),
            "targets": batch["targets"].flatten().tolist(),
            "loss_mask": [int(v) for v in mask.flatten().tolist()],
        },
        "rewards": REWARDS,
        "group_stats": [{k: g12(v) for k, v in s.items()} for s in group_stats],
        "advantages": [g12(a) for a in advantages],
        "behaviour_logprobs": old.flatten().tolist(),
        "sample_indices": samples,
        # Exact float32 values (a check that both sides read the same checkpoint).
        "params_before": {n: P0[n].flatten()[samples[n]].tolist() for n in P0},
        "token_mean": token_mean,
        "sequence_mean": sequence_mean,
        # The same script in float32 torch against the float64 values above, per step: the scale of
        # a correct float32 implementation's error (the test's tolerances sit above these).
        "float32_torch_vs_float64": noise,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(fixture, f, indent=2)
        f.write("\n")
    # The repository's formatter owns the layout of committed JSON.
    npx = shutil.which("npx")
    if npx:
        subprocess.run([npx, "biome", "format", "--write", args.out], cwd=REPO, check=False,
                       stdout=subprocess.DEVNULL)
    for name, recs in (("token-mean", token_mean), ("sequence-mean", sequence_mean)):
        for s, r in enumerate(recs):
            print(
                f"{name} step {s + 1}: loss {r['loss']:.6g} clip_fraction {r['clip_fraction']:.4g} "
                f"grad_norm {r['grad_norm']:.6g} min |ratio - edge| {r['min_ratio_distance_to_clip_edges']:.3g}"
            )
    print(f"advantages {[round(a, 4) for a in advantages]}")
    print(f"float32 torch vs float64: {json.dumps(noise)}")
    print(f"wrote {os.path.relpath(args.out, REPO)} ({os.path.getsize(args.out)} bytes), torch {torch.__version__}")


if __name__ == "__main__":
    sys.exit(main())
