// Package nn is a small convolutional network with hand-written
// vector-Jacobian products, the conditioner of the coupling layers of
// package flow.
//
// Conventions:
//
//   - A tensor is one sample, channels first: C x L x L contiguous, element
//     (c, x0, x1) at index c*L*L + x0*L + x1, so within a channel the sites
//     are in the order of package lattice (x1 contiguous). There is no batch
//     axis; batches are loops over samples (see ParallelFor).
//   - Conv2D is a cross-correlation, as torch.nn.Conv2d, with circular
//     (periodic) padding and an odd kernel K, h = K/2:
//     out[o][x] = B[o] + sum_{i,k0,k1} W[o][i][k0][k1] in[i][x0+k0-h][x1+k1-h].
//     W is flat with index ((o*Cin+i)*K+k0)*K+k1, the layout of a PyTorch
//     weight of shape (Cout, Cin, K, K).
//   - A Net owns one flat parameter slice, Params(), ordered layer by layer,
//     weights then bias of each layer (the order of a PyTorch state_dict);
//     the W and B of each layer are views into it. Gradients with respect
//     to the parameters are flat slices of the same shape.
//   - A VJP ("vector-Jacobian product") of y = f(x) takes a cotangent gy and
//     returns gx = (dy/dx)^T gy. VJPs named ...Params and the grad argument
//     of Net.Backward accumulate (+=); VJPs with respect to inputs overwrite.
//   - A Net's parameters are read-only during Forward and Backward, so
//     goroutines may share it; the per-sample state (the activations) lives
//     in a Tape, one per goroutine or stored sample. The scratch space of a
//     call (shifted copies, cotangent buffers) comes from a pool in the Net,
//     one buffer per concurrent call, reused while warm in cache; Forward
//     and Backward allocate only while that pool grows to the number of
//     concurrent calls (once per goroutine), then never. A Tape keeps the
//     input and every layer's activated output, except the last layer's
//     under an Identity final activation, which Backward does not need.
//   - Forward and Backward run the convolutions through periodically
//     shifted copies of each plane. Where kernels.HasRowKernels (amd64 with
//     AVX-512, or AVX2 and FMA; chosen at run time) a layer is one small
//     matrix product over the rows of the copies, four output channels at
//     a time in assembly, reading the weights in place, with the hidden
//     LeakyReLU fused into the forward store and its VJP into the input
//     VJP's store, and the weight gradient taken from the same copies of
//     the output cotangent as the input VJP (or, for layers with few input
//     channels, from copies of the input). Elsewhere they run one axpy or
//     dot per kernel entry and plane on gonum's assembly. The Conv2D
//     methods, which have no workspace, use direct stencil kernels. All are
//     in package latflow/internal/kernels and give the same numbers up to
//     rounding (the assembly rounds once per multiply-add); each is
//     deterministic, so the same inputs give the same bits on every call and
//     in every goroutine.
//   - Do not reassign a layer's W or B, or Layers: they are views into the
//     flat parameters. Change values in place (or through Params).
//   - Activations are Identity, LeakyReLU (negative slope 0.01, the PyTorch
//     default, derivative 0.01 at 0) and Tanh. Their VJPs are computed from
//     the activation's output, so a Tape stores only layer outputs.
//   - Element type T is float32 or float64; float64 nets are the master copy
//     for tests and training, Convert gives float32 for production.
//   - Misuse (shape mismatch, nil tape) panics with a message prefixed "nn: ".
package nn

// Float is the set of element types of a network.
type Float interface{ ~float32 | ~float64 }
