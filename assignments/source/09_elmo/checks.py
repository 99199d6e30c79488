"""Assignment 9's checks: random layers and mixing weights, and random biLM scores over
windows of tokens, drawn per grading run; references computed here by hand (the scalar
mix) and from torch.nn.functional.cross_entropy (the joint loss)."""

import torch
import torch.nn.functional as F

from grading.checks import Case, part, shape, torch_generator



def mixed(layers, w, gamma):
    """γ Σ_j s_j h_j with s = softmax(w), written out (float64, then back to float32)."""
    w = w.double()
    s = torch.exp(w - w.max())
    s = s / s.sum()
    total = torch.zeros(layers[0].shape, dtype=torch.float64)
    for s_j, h in zip(s, layers):
        total = total + s_j * h.double()
    return (gamma.double() * total).float()


@part("test_scalar_mix", atol=1e-5, rtol=1e-5)
def scalar_mix(rng):
    g, cases = torch_generator(rng), []
    # (number of layers L + 1, the layers' shape): a biLM's 3 layers over a batch, one
    # layer alone, one vector per layer, many layers over a sequence.
    sizes = [(3, (rng.randint(1, 4), rng.randint(1, 6), rng.randint(1, 8))),
             (1, (rng.randint(1, 5), rng.randint(1, 6))),
             (rng.randint(2, 4), (rng.randint(1, 8),)),
             (rng.randint(4, 6), (rng.randint(2, 7), rng.randint(1, 5)))]
    for n, dims in sizes:
        layers = [torch.randn(dims, generator=g) for _ in range(n)]
        w = torch.randn(n, generator=g) * rng.choice([0.5, 2.0, 5.0])
        gamma = torch.tensor(rng.uniform(-2.0, 3.0))
        weights = ", ".join(f"{v:.3g}" for v in w.tolist())
        cases.append(Case({"layers": layers, "w": w, "gamma": gamma}, mixed(layers, w, gamma),
                          f"scalar_mix({n} layers {shape(layers[0])}, w ({weights}), "
                          f"gamma={float(gamma):.3g})"))
    return cases


def reference_loss(forward_logits, backward_logits, targets):
    V = forward_logits.shape[-1]
    ahead = F.cross_entropy(forward_logits[:, :-1].reshape(-1, V), targets[:, 1:].reshape(-1))
    behind = F.cross_entropy(backward_logits[:, 1:].reshape(-1, V), targets[:, :-1].reshape(-1))
    return float(ahead + behind)


@part("test_joint_loss", atol=1e-5, rtol=1e-5)
def joint_loss(rng):
    g, cases = torch_generator(rng), []
    # (B, T, V): a batch of windows; a batch of one; the shortest window, T = 2; two words.
    sizes = [(rng.randint(2, 5), rng.randint(3, 10), rng.randint(3, 30)),
             (1, rng.randint(3, 8), rng.randint(3, 12)),
             (rng.randint(1, 4), 2, rng.randint(3, 10)),
             (rng.randint(2, 4), rng.randint(3, 8), 2)]
    for B, T, V in sizes:
        scale = rng.choice([1.0, 3.0])
        forward_logits = torch.randn(B, T, V, generator=g) * scale
        backward_logits = torch.randn(B, T, V, generator=g) * scale
        targets = torch.randint(0, V, (B, T), generator=g)
        cases.append(Case({"forward_logits": forward_logits, "backward_logits": backward_logits,
                           "targets": targets},
                          reference_loss(forward_logits, backward_logits, targets),
                          f"joint_loss(logits {shape(forward_logits)} both ways, "
                          f"targets {shape(targets)})"))
    return cases
