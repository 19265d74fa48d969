"""The kernels a toy GRPO step spends its time in, timed alone at the step's shapes: is the step
bound by arithmetic, and would another attention implementation be faster?

    python perf/toy_step_kernels.py            # ~1 minute on 2 cores
    python perf/toy_step_kernels.py --threads 1
    python perf/toy_step_kernels.py --quick    # 5 timed calls per figure

The toy preset's step: 32 prompts x 8 rollouts = 256 sequences of up to ~90 tokens (a ~41-token
prompt, up to 48 completion tokens), hidden size 96, MLP 256, 4 query heads of 24 dims.
- matmul: fp32 GFLOPS of `x @ W` at (256 x 90 tokens) x 96 x 256 and back, and of the weight
  gradient, the shapes of the MLP projections (MKL on this machine's torch build);
- attention over the whole sequence (the log-prob and loss forwards, and their backward):
  PyTorch's SDPA (what the model uses) against the eager form (matmul, mask, softmax, matmul),
  with a left-padding mask as TRL's batches have;
- attention of one new token over its cache (each generation step) at 45, 70 and 89 positions.
Each figure is the median of `--repeats` timed calls after a warm-up call. No figure is asserted.
"""

import argparse
import statistics
import time

B, H, D = 256, 4, 24  # sequences, query heads, head dim (the toy model: hidden 96 = 4 x 24)
TOKENS = B * 90  # tokens in a step's forward
HIDDEN, MLP = 96, 256


def timed(fn, repeats: int) -> float:
    """Median seconds of fn() over `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def padding_mask(torch, length: int, queries: int):
    """[B, 1, queries, length] boolean mask: causal over the last `queries` positions, the first 3
    positions padding (TRL left-pads prompts)."""
    keep = torch.ones(queries, length, dtype=torch.bool).tril(diagonal=length - queries)
    mask = keep[None, None].expand(B, 1, queries, length).clone()
    mask[..., :3] = False
    mask[..., torch.arange(queries), torch.arange(length - queries, length)] = True  # a row never empty
    return mask


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2: the machine's cores)")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per figure")
    parser.add_argument("--quick", action="store_true", help="5 timed calls per figure")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 5

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}\n")

    x, w_up, h, w_down = (torch.randn(TOKENS, HIDDEN), torch.randn(HIDDEN, MLP), torch.randn(TOKENS, MLP),
                          torch.randn(MLP, HIDDEN))
    flop = 2 * TOKENS * HIDDEN * MLP
    print(f"matmul at a step's MLP shapes ({TOKENS} tokens x {HIDDEN} x {MLP}), fp32:")
    for name, fn in (("x @ W (96 -> 256)", lambda: x @ w_up), ("h @ W (256 -> 96)", lambda: h @ w_down),
                     ("weight gradient x^T @ h", lambda: x.t() @ h)):
        s = timed(fn, args.repeats)
        print(f"  {name:<26} {1e3 * s:7.2f} ms  {flop / s / 1e9:6.1f} GFLOPS")

    L = 90
    q, k, v = (torch.randn(B, H, L, D, requires_grad=True) for _ in range(3))
    mask = padding_mask(torch, L, L)

    def sdpa():
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    def eager():
        s = (q @ k.transpose(-1, -2)) * D ** -0.5
        return torch.softmax(s.masked_fill(~mask, float("-inf")), -1) @ v

    print(f"\nattention over whole sequences ({B} x {H} heads x {L} tokens x {D} dims):")
    for name, fn in (("SDPA", sdpa), ("eager", eager)):
        with torch.no_grad():
            fwd = timed(fn, args.repeats)
        both = timed(lambda: fn().sum().backward(), args.repeats)
        print(f"  {name:<6} forward {1e3 * fwd:7.1f} ms   forward+backward {1e3 * both:7.1f} ms")

    print(f"\nattention of one new token over its cache ({B} x {H} heads, generation):")
    for length in (45, 70, 89):
        q1, kc, vc = torch.randn(B, H, 1, D), torch.randn(B, H, length, D), torch.randn(B, H, length, D)
        m1 = padding_mask(torch, length, 1)

        def sdpa1():
            return F.scaled_dot_product_attention(q1, kc, vc, attn_mask=m1)

        def eager1():
            s = (q1 @ kc.transpose(-1, -2)) * D ** -0.5
            return torch.softmax(s.masked_fill(~m1, float("-inf")), -1) @ vc

        with torch.no_grad():
            a, b = timed(sdpa1, 10 * args.repeats), timed(eager1, 10 * args.repeats)
        print(f"  {length} cached tokens: SDPA {1e3 * a:6.3f} ms   eager {1e3 * b:6.3f} ms   ({a / b:.1f}x)")


if __name__ == "__main__":
    main()
