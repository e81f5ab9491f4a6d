// Package models holds the flows that latflow ships: trained model files
// embedded in the binary, so that latflow sample works on a fresh machine
// without a download. Each model file carries its own provenance (the
// training commands, steps, wall time, and the ESS and acceptance measured
// on fresh proposals); List reads them.
//
// A flow applies to any lattice extent its masks allow and to any
// couplings of its theory: the independence Metropolis sampler stays
// exact for any proposal, and only the acceptance depends on how close the
// target is to the one the model was trained for.
//
// latflow sample without --model uses the shipped model trained for its
// target if there is one (Registry.ForTarget: the same theory, L and
// action of the field, so phi^4 couplings match across the standard and
// hopping parametrizations where they give the same action, J, A and B
// equal), and the default model of the theory otherwise. A Registry is a
// set of model files in a file system; Shipped is the embedded one, and
// tests build their own with NewRegistry.
package models
