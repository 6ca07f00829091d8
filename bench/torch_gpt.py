#!/usr/bin/python3
"""PyTorch peer for noiseformer's CPU and GPU training benchmarks.

MODIFIED COPY of ../shared/bench/torch_gpt.py — the model, optimizer, data and timing loop are
unchanged; it adds:
  * `--device cpu|cuda` (and `--tf32` for CUDA), so the same model runs in PyTorch eager on the
    GPU next to bench/bench_cuda.cpp; on CUDA each step is timed between synchronize() calls and
    the peak device memory is reported;
  * "ms_min" (fastest timed step) and "cpu_ms" (median process CPU time per step) in the JSON
    line, because the benchmark machine is shared and busy, and bench/bench_train.cpp reports the
    same figures, so scripts/bench_vs_torch.sh compares like with like.

  /usr/bin/python3 bench/torch_gpt.py --preset small                       # CPU
  /usr/bin/python3 bench/torch_gpt.py --preset gpt2 --device cuda [--tf32] # GPU

The same GPT-2 shape as noiseformer (pre-LN, fused c_attn, GELU-tanh MLP, tied lm_head, biases),
trained with AdamW on random tokens; prints the median milliseconds per training step
(forward + loss + backward + optimizer) and tokens per second.

Needs Debian's PyTorch: `apt-get install -y python3-torch`, then run it with /usr/bin/python3.
Give both programs the same environment, e.g. OMP_WAIT_POLICY=PASSIVE and the same
OPENBLAS_CORETYPE, and compare in one run:

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_gpt.py --preset small
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_gpt.py --preset small --attention symmetric
"""
import argparse, json, math, resource, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # batch, block, layers, heads, width, vocab
    "tiny": dict(batch_size=8, block_size=64, n_layer=4, n_head=4, n_embd=128, vocab_size=256),
    "small": dict(batch_size=4, block_size=256, n_layer=6, n_head=6, n_embd=384, vocab_size=256),
    "gpt2": dict(batch_size=4, block_size=1024, n_layer=12, n_head=12, n_embd=768, vocab_size=50304),
}


class Attention(nn.Module):
    def __init__(s, C, H, symmetric):
        super().__init__()
        s.H, s.C, s.symmetric = H, C, symmetric
        s.c_attn = nn.Linear(C, (2 if symmetric else 3) * C)
        s.c_proj = nn.Linear(C, C)

    def forward(s, x):
        B, T, C = x.shape
        parts = s.c_attn(x).split(C, dim=2)
        q, v = parts[0], parts[-1]
        k = q if s.symmetric else parts[1]
        heads = lambda t: t.view(B, T, s.H, C // s.H).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // s.H)
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = F.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        return s.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(s, C, H, symmetric):
        super().__init__()
        s.ln_1, s.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.attn = Attention(C, H, symmetric)
        s.c_fc, s.c_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(s, x):
        x = x + s.attn(s.ln_1(x))
        return x + s.c_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s, n_layer, n_head, n_embd, block_size, vocab_size, symmetric):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(vocab_size, n_embd), nn.Embedding(block_size, n_embd)
        s.h = nn.ModuleList(Block(n_embd, n_head, symmetric) for _ in range(n_layer))
        s.ln_f = nn.LayerNorm(n_embd)

    def forward(s, idx, tgt):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1], device=idx.device))
        for b in s.h:
            x = b(x)
        logits = s.ln_f(x) @ s.wte.weight.t()
        return F.cross_entropy(logits.flatten(0, 1), tgt.flatten())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=PRESETS, default="small")
    ap.add_argument("--attention", choices=["base", "symmetric"], default="base")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--tf32", action="store_true", help="CUDA: allow TF32 tensor-core matmuls (off by default)")
    for k in PRESETS["small"]:
        ap.add_argument("--" + k.replace("_", "-"), type=int)
    a = ap.parse_args()
    cfg = dict(PRESETS[a.preset])
    for k in cfg:
        if getattr(a, k) is not None:
            cfg[k] = getattr(a, k)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if cuda:
        if not torch.cuda.is_available():
            raise SystemExit("torch_gpt.py: --device cuda: no CUDA device")
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    B, T = cfg.pop("batch_size"), cfg["block_size"]
    model = GPT(**cfg, symmetric=a.attention == "symmetric").to(dev)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95))
    x = torch.randint(0, cfg["vocab_size"], (B, T)).to(dev)
    y = torch.randint(0, cfg["vocab_size"], (B, T)).to(dev)
    times, cpu = [], []
    for i in range(a.warmup + a.steps):
        if cuda and i == a.warmup:
            torch.cuda.reset_peak_memory_stats()
        sync()
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = model(x, y)
        loss.backward()
        opt.step()
        sync()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    ms = statistics.median(times) * 1e3
    out = {"peer": f"torch-{torch.__version__}", "device": a.device, "preset": a.preset, "attention": a.attention,
           "params": sum(p.numel() for p in model.parameters()), "ms": round(ms, 2),
           "tok_per_s": round(B * T / ms * 1e3, 1),
           "ms_min": round(min(times) * 1e3, 2), "cpu_ms": round(statistics.median(cpu) * 1e3, 2),
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    if cuda:
        out["gpu"] = torch.cuda.get_device_name()
        out["tf32"] = a.tf32
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated() // (1024 * 1024)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
