#!/usr/bin/python3
"""noiseformer's GPT written in PyTorch: the peer of build/bench_train (bench/bench_train.cpp).

scripts/bench_vs_torch.sh runs this script next to bench_train to compare CPU training speed.
Both train the same GPT-2-style model on one fixed batch of random tokens with AdamW (lr 1e-3,
betas 0.9/0.95, weight decay 0.1 on matrices and embeddings, none on biases, gains, λ and noise
statistics) and time whole steps: zero_grad + forward + loss + backward + optimizer step. The
model is the one of models/gpt.cpp with dropout 0: learned position embeddings, pre-LayerNorm
blocks with biases, a fused c_attn projection, a GELU (tanh) MLP of width 4C, a final LayerNorm
and an lm_head tied to the token embedding; GPT-2's initialisation (N(0, 0.02), the residual
projections N(0, 0.02/√(2L))). The attention is any of noiseformer's seven variants
(nn/causal_self_attention.h, nn/diff_attention.h, nn/selective.h):

  base         softmax(s·QKᵀ + mask) V
  symmetric    K := Q, so c_attn is C -> 2C
  noise-v1/v2  K := Q, plus learned Gaussian score noise μ + σ·ε, one (μ, log σ²) per layer (v1)
               or per head (v2), ε ~ N(0, 1) fresh each step; the loss adds 1e-3 × the mean KL
               of the noise statistics to N(0, 1)
  diff         differential attention: H/2 heads with two query/key branches (width d) and a
               value of width 2d; (A1 − λ A2) V, RMSNorm, × (1 − λ_init)
  shared-diff  as diff, the two branches sharing a C -> C/2 projection plus rank-8 corrections
  selective    head 0's ReLU'd logits, summed down the query axis, are subtracted from every
               head's logits (no memory term: its weight is 0 by default)

Output: one JSON line with the median wall milliseconds per timed step (`ms`), tokens per
second, the median process CPU milliseconds per step (`cpu_ms`, all threads), the parameter
count and the peak resident set (`peak_rss_mib`, ru_maxrss). `--losses` adds every step's loss.

Needs PyTorch; on Debian `apt-get install -y python3-torch` and the system /usr/bin/python3.
Run it in the same environment as bench_train (OMP_WAIT_POLICY=PASSIVE, the same OMP_NUM_THREADS
and OPENBLAS_CORETYPE), which scripts/bench_vs_torch.sh arranges:

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_gpt.py --preset small
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_gpt.py --preset tiny --attention noise-v2
  python3 bench/torch_gpt.py --device cuda --preset gpt2        # a CUDA build of PyTorch
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Shapes: batch B, block (sequence) T, layers, heads, width C, vocabulary. The same three shapes as
# bench_train; scripts/bench_vs_torch.sh passes --batch-size 1 for gpt2, as bench_train's own uses.
PRESETS = {
    "tiny": dict(batch_size=8, block_size=64, n_layer=4, n_head=4, n_embd=128, vocab_size=256),
    "small": dict(batch_size=4, block_size=256, n_layer=6, n_head=6, n_embd=384, vocab_size=256),
    "gpt2": dict(batch_size=4, block_size=1024, n_layer=12, n_head=12, n_embd=768, vocab_size=50304),
}
ATTENTIONS = ["base", "symmetric", "noise-v1", "noise-v2", "diff", "shared-diff", "selective"]

KL_WEIGHT = 1e-3  # GPTConfig::kl_weight, β of the noise variants' KL term
LOWRANK = 8       # GPTConfig::lowrank, r of shared-diff's corrections


def heads(t, n):
    """(B, T, n·w) -> (B, n, T, w), a view."""
    B, T, W = t.shape
    return t.view(B, T, n, W // n).transpose(1, 2)


def merge(t):
    """(B, n, T, w) -> (B, T, n·w)."""
    B, n, T, w = t.shape
    return t.transpose(1, 2).reshape(B, T, n * w)


def masked_softmax(logits, future):
    """Softmax over the keys with the future (future[i, j] = j > i) removed."""
    return F.softmax(logits.masked_fill(future, float("-inf")), dim=-1)


class SelfAttention(nn.Module):
    """One softmax per head: base, symmetric, noise-v1, noise-v2 and selective."""

    def __init__(self, kind, C, H):
        super().__init__()
        self.kind, self.H = kind, H
        self.scale = 1.0 / math.sqrt(C // H)
        self.tied_qk = kind in ("symmetric", "noise-v1", "noise-v2")
        self.c_attn = nn.Linear(C, (2 if self.tied_qk else 3) * C)
        self.c_proj = nn.Linear(C, C)
        if kind.startswith("noise"):
            n = H if kind == "noise-v2" else 1
            # μ = 0, log σ² = 0: the noise starts at its N(0, 1) prior.
            self.noise_mu = nn.Parameter(torch.zeros(n))
            self.noise_logvar = nn.Parameter(torch.zeros(n))

    def forward(self, x, future):
        B, T, C = x.shape
        parts = self.c_attn(x).split(C, dim=2)
        q, v = heads(parts[0], self.H), heads(parts[-1], self.H)
        k = q if self.tied_qk else heads(parts[1], self.H)
        logits = (q @ k.transpose(-2, -1)) * self.scale  # (B, H, T, T)
        if self.kind.startswith("noise"):
            n = self.noise_mu.numel()
            eps = torch.randn(B, n, T, T, device=x.device, dtype=x.dtype)
            sigma = torch.exp(0.5 * self.noise_logvar).view(1, n, 1, 1)
            logits = logits + self.noise_mu.view(1, n, 1, 1) + sigma * eps
        elif self.kind == "selective":
            logits = logits - selection_mask(logits[:, 0]).unsqueeze(1)
        y = masked_softmax(logits, future) @ v
        return self.c_proj(merge(y))

    def kl(self):
        """Σ KL(N(μ, σ²) ‖ N(0, 1)) over this layer's noise statistics, and their count."""
        mu, lv = self.noise_mu, self.noise_logvar
        return 0.5 * (mu * mu + lv.exp() - lv - 1).sum(), mu.numel()


def selection_mask(head0):
    """Selective attention's F (B, T, T) from head 0's scaled logits (B, T, T):
    S = ReLU(logits) kept only where 0 < j < i, F[i, j] = Σ_{k<i} S[k, j]."""
    T = head0.shape[-1]
    i = torch.arange(T, device=head0.device)
    keep = (i.view(1, T) > 0) & (i.view(1, T) < i.view(T, 1))  # [i, j]: 0 < j < i
    S = F.relu(head0) * keep.to(head0.dtype)
    return S.cumsum(dim=-2) - S


class DiffAttention(nn.Module):
    """Differential attention (diff) and its shared-projection form (shared-diff)."""

    def __init__(self, kind, C, H, layer):
        super().__init__()
        self.shared = kind == "shared-diff"
        self.h, self.d = H // 2, C // H
        self.scale = 1.0 / math.sqrt(self.d)
        self.lambda_init = 0.8 - 0.6 * math.exp(-0.3 * layer)  # layer counted from 0
        self.c_attn = nn.Linear(C, (2 if self.shared else 3) * C)
        self.c_proj = nn.Linear(C, C)
        if self.shared:
            # branch b's query (key) = the shared C/2 projection + up_b(down_b(x)), rank LOWRANK
            for name in ("q1", "q2", "k1", "k2"):
                setattr(self, name + "_down", nn.Linear(C, LOWRANK, bias=False))
                setattr(self, name + "_up", nn.Linear(LOWRANK, C // 2, bias=False))
        for name in ("lambda_q1", "lambda_k1", "lambda_q2", "lambda_k2"):
            setattr(self, name, nn.Parameter(0.1 * torch.randn(self.d)))
        self.subln_weight = nn.Parameter(torch.ones(2 * self.d))  # RMSNorm gain over 2d

    def branches(self, x):
        B, T, C = x.shape
        qkv = self.c_attn(x)
        if not self.shared:
            q, k, v = qkv.split(C, dim=2)
            # sub-head 2i is branch 1 of head i, 2i+1 its branch 2
            q = q.view(B, T, self.h, 2, self.d)
            k = k.view(B, T, self.h, 2, self.d)
            pick = lambda t, b: t[:, :, :, b].transpose(1, 2)
            return pick(q, 0), pick(k, 0), pick(q, 1), pick(k, 1), heads(v, self.h)
        q, k, v = qkv.split([C // 2, C // 2, C], dim=2)
        low = lambda base, name: heads(base + getattr(self, name + "_up")(getattr(self, name + "_down")(x)), self.h)
        return low(q, "q1"), low(k, "k1"), low(q, "q2"), low(k, "k2"), heads(v, self.h)

    def forward(self, x, future):
        q1, k1, q2, k2, v = self.branches(x)
        a1 = masked_softmax((q1 @ k1.transpose(-2, -1)) * self.scale, future)
        a2 = masked_softmax((q2 @ k2.transpose(-2, -1)) * self.scale, future)
        lam = (torch.exp((self.lambda_q1 * self.lambda_k1).sum()) - torch.exp((self.lambda_q2 * self.lambda_k2).sum())
               + self.lambda_init)
        o = (a1 - lam * a2) @ v  # (B, h, T, 2d)
        o = o * torch.rsqrt(o.pow(2).mean(dim=-1, keepdim=True) + 1e-5) * self.subln_weight
        return self.c_proj(merge(o * (1.0 - self.lambda_init)))


class Block(nn.Module):
    def __init__(self, kind, C, H, layer):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.attn = DiffAttention(kind, C, H, layer) if kind.endswith("diff") else SelfAttention(kind, C, H)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.c_proj = nn.Linear(4 * C, C)

    def forward(self, x, future):
        x = x + self.attn(self.ln_1(x), future)
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, kind, n_layer, n_head, n_embd, block_size, vocab_size):
        super().__init__()
        if kind.endswith("diff") and n_head % 2:
            raise SystemExit(f"torch_gpt.py: {kind} attention needs an even number of heads")
        self.kind = kind
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList(Block(kind, n_embd, n_head, l) for l in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        future = torch.ones(block_size, block_size, dtype=torch.bool).triu(1)
        self.register_buffer("future", future, persistent=False)
        self.gpt2_init(n_layer)

    @torch.no_grad()
    def gpt2_init(self, n_layer):
        """noiseformer's initialisation: Linear and Embedding weights N(0, 0.02), biases 0, the
        two residual projections of each block N(0, 0.02/√(2L)); LayerNorms 1 and 0."""
        for name, m in self.named_modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj") else 0.02
                m.weight.normal_(0.0, std)
                if getattr(m, "bias", None) is not None:
                    m.bias.zero_()

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        future = self.future[:T, :T]
        for block in self.h:
            x = block(x, future)
        logits = self.ln_f(x) @ self.wte.weight.t()  # tied lm_head, no bias
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        if self.kind.startswith("noise"):
            terms = [b.attn.kl() for b in self.h]
            kl = sum(t[0] for t in terms) / sum(t[1] for t in terms)
            loss = loss + KL_WEIGHT * kl
        return loss

    def param_groups(self, weight_decay):
        """AdamW's two groups, as GPT::decay_parameters: matrices and embeddings decayed;
        biases, LayerNorm and RMSNorm gains, λ vectors and noise statistics not."""
        decay, rest = [], []
        for name, p in self.named_parameters():
            (decay if p.dim() >= 2 and "noise_" not in name else rest).append(p)
        return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def parse_args():
    ap = argparse.ArgumentParser(description="noiseformer's GPT in PyTorch: median time of a training step")
    ap.add_argument("--preset", choices=PRESETS, default="small")
    ap.add_argument("--attention", choices=ATTENTIONS, default="base")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (median reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--no-tf32", action="store_true", help="on CUDA: plain float32 products")
    ap.add_argument("--losses", action="store_true", help="add every step's loss to the JSON")
    for key in PRESETS["small"]:  # --batch-size, --block-size, ... override the preset
        ap.add_argument("--" + key.replace("_", "-"), type=int, metavar="N")
    return ap.parse_args()


def main():
    a = parse_args()
    shape = {k: (getattr(a, k) if getattr(a, k) is not None else v) for k, v in PRESETS[a.preset].items()}
    B, T = shape.pop("batch_size"), shape["block_size"]
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    cuda = a.device == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = not a.no_tf32
        torch.backends.cudnn.allow_tf32 = not a.no_tf32

    model = GPT(a.attention, **shape).to(dev)
    opt = torch.optim.AdamW(model.param_groups(0.1), lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    x = torch.randint(0, shape["vocab_size"], (B, T), device=dev)
    y = torch.randint(0, shape["vocab_size"], (B, T), device=dev)

    wall, cpu, losses = [], [], []
    for step in range(a.warmup + a.steps):
        if cuda:
            torch.cuda.synchronize()
        w0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = model(x, y)
        loss.backward()
        opt.step()
        if cuda:
            torch.cuda.synchronize()
        w1, c1 = time.perf_counter(), time.process_time()
        if step >= a.warmup:
            wall.append(w1 - w0)
            cpu.append(c1 - c0)
        if a.losses:
            losses.append(round(loss.item(), 6))  # after the clock: .item() would sync

    ms = 1e3 * statistics.median(wall)
    out = {"peer": f"torch-{torch.__version__}", "device": a.device}
    if cuda:
        out.update(device_name=torch.cuda.get_device_name(), tf32=not a.no_tf32,
                   peak_gpu_mib=torch.cuda.max_memory_allocated() >> 20)
    out.update(preset=a.preset, attention=a.attention, params=sum(p.numel() for p in model.parameters()),
               ms=round(ms, 2), tok_per_s=round(B * T / ms * 1e3, 1),
               peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
               B=B, T=T, threads=torch.get_num_threads(), cpu_ms=round(1e3 * statistics.median(cpu), 2))
    if a.losses:
        out["losses"] = losses
    print(json.dumps(out))


if __name__ == "__main__":
    main()
