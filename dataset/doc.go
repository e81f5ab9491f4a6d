// Package dataset writes and reads Monte Carlo chains as directories of
// uncompressed Arrow IPC files, readable from Go, Python (Polars, pandas,
// pyarrow) and JavaScript (apache-arrow, nodejs-polars) without conversion.
//
// Writers write format 2 (FormatVersion); Open reads format 1 and format 2,
// also mixed across directories.
//
// # Layout
//
// A dataset is a directory of parts. Each part is one Arrow IPC file (the
// random-access "file" format, also known as Feather V2, not the stream
// format), uncompressed, holding one record batch of consecutive rows of one
// chain. Parts are named
//
//	part-cCCCC-NNNNN.arrow
//
// with CCCC the chain id and NNNNN the part index within the chain, both
// decimal and zero-padded to at least 4 and 5 digits (part-c0003-00012.arrow
// is part 12 of chain 3). Several writers may share one directory as long as
// each writes its own chain id, so the tasks of a Slurm job array can write
// one dataset by using the array task id as the chain id. Readers take every
// file matching part-*.arrow and identify chains by the latflow.chain metadata,
// not by the file name. Besides the parts, a directory holds per chain
//
//	_checksums-cCCCC.sha256  the SHA-256 of each part (see Checksums)
//	.lock-cCCCC              the lock of the chain's writer (see Writers)
//
// which pyarrow.dataset (ignoring names that start with "_" or ".") and
// globs of part-*.arrow skip. All parts of a directory written in format 2
// have one schema (the same columns and types; Create refuses another), so
// Polars reads a directory as one table.
//
// # Writers
//
// A Writer holds an exclusive lock on its chain from Create to Close or
// Discard: flock(2) on .lock-cCCCC, which holds the holder's pid and host.
// A second writer of the chain, in the same process or another, gets an
// error naming the chain, the directory and the holder; the kernel releases
// the lock when the holder exits, also on SIGKILL. On a filesystem without
// flock (Lustre mounted without it) Create fails unless
// WriterOptions.NoLock, with which the caller guarantees one writer per
// chain. Under the lock, Create removes the temporary files that crashed
// writers of the chain left.
//
// A part is written as .part-cCCCC-NNNNN.arrow.PID-RANDOM.tmp (a name no
// other writer uses), fsynced and closed; its SHA-256 is appended to the
// chain's manifest, which is fsynced; the file is renamed into place
// without replacing an existing part (renameat2 RENAME_NOREPLACE; where the
// filesystem lacks it, link and unlink; without hard links, a check and a
// rename, safe under the lock), and the directory is fsynced. So every
// part-*.arrow is complete and has its checksum, and a crash loses at most
// the rows buffered for the part being written. A Writer holds at most one
// part in memory.
//
// A chain runner may take the lock itself with LockChain before it reads
// the chain's checkpoint, so that nothing it reads changes before it
// writes, and hand it to its Writer (WriterOptions.Lock). RemovePartsFrom
// removes the last parts of a chain (from an index on) under the chain's
// lock, for a run that resumes from a checkpoint older than them; ReadChain
// reads the parts that such a checkpoint counts, NextPart gives the
// FirstPart of the resumed writer, and Inspect the rows, steps and parts of
// each chain cheaply (from the part footers and message headers in format
// 2), with the parts whose framing is inconsistent and the parts that the
// manifest lists but the directory lacks.
//
// A writer never writes through a symbolic link inside the directory: a
// manifest or lock file that is one is refused, naming it. Readers follow
// links: a directory of links to the parts of other directories reads as a
// dataset, each part verified against the manifest beside the file it
// points to when the directory's own manifest has no line for it.
//
// # Checksums
//
// The manifest _checksums-cCCCC.sha256 of a chain holds a line
//
//	<SHA-256 of the whole part file, 64 hex digits>  part-cCCCC-NNNNN.arrow
//
// per part, in the format of sha256sum(1): `sha256sum -c
// _checksums-c0003.sha256`, run in the directory, checks chain 3. Lines are
// appended, and a later line for a part replaces an earlier one (a part
// rewritten after a crash); a last line cut short by a crash is ignored. A
// line of a part that does not exist means the part was written and then
// deleted or lost, and Open refuses it naming the part (a missing last part
// leaves no gap in the steps, so only the manifest tells), except the line of
// a part that a crashed writer was putting in place: above every part of its
// chain, with its temporary file still there; the resumed writer drops it.
// After a power loss that lost that temporary file too, Open refuses until
// the chain is resumed. Open verifies every part that has a line and refuses
// a mismatch with an error naming the part; a part of format 2 must have a
// line. Parts of format 1 were written without checksums and
// are read without. OpenOptions.SkipChecksums reads a damaged dataset
// unverified.
//
// A corrupt part is an error naming the file, never a panic: the reader
// bounds the lengths in the footer before the Arrow decoder allocates by
// them, and recovers the decoder's panics.
//
// # Columns, format 2
//
// In this order:
//
//	chain     int32    chain id (equal to latflow.chain)
//	step      int64    Monte Carlo step (trajectory or proposal) number
//	accepted  bool     whether the step's proposal was accepted
//	action    float64  action S of the configuration after the step
//	L         int32    lattice extent (equal to latflow.L)
//	seed      uint64   random seed of the chain (equal to latflow.seed)
//	<coupling> float64 one column per coupling, in name order, named and
//	                   valued as latflow.coupling.NAME: beta (U(1)); lambda,
//	                   m2 (phi^4, standard) or kappa, lambda (phi^4, hopping)
//	<obs>     float64, nullable
//	                   one column per observable (Spec.Observables), in the
//	                   order the writer was given, null on a row where the
//	                   step has no value (Row.Null); latflow writes for U(1):
//	                   plaquette, topological_charge; for phi^4:
//	                   magnetization, abs_magnetization, phi_sq (the site
//	                   average of phi^2); then for every sampler log_q,
//	                   log_p, log_weight (null except on proposals), delta_h
//	                   (null except on HMC trajectories), tries (null except
//	                   on exact samples)
//	<label>   utf8     one column per string label (Spec.Labels), e.g.
//	                   update ("flow" or "hmc") for latflow sample
//	<config>  list<item: float64 not null>, nullable (optional), or
//	          list<item: float32 not null> with Spec.ConfigFloat32
//	          the configuration, non-null only on the rows where it was
//	          saved, named
//	            links  U(1): 2V values, index l = mu*V + n, the link angle
//	                   theta_mu(n) in [0, 2pi)
//	            phi    phi^4: V values, index n
//	          with V = L*L and site n = x0*L + x1 (direction 1 contiguous).
//
// latflow writes the configuration column also when it saves no
// configuration (then all null), so that every dataset of a theory has the
// same columns and types, whichever sampler wrote it, except that float32
// configurations change the type of the configuration column. Parts written
// before observable columns could hold nulls have none and read as before;
// readers of format 2 that predate them refuse a part with nulls in an
// observable column, naming it. Open reads a null observable as NaN.
//
// No other column has nulls, and a null
// configuration takes no space (a variable-size list stores only the
// values of non-null rows), so saving every 10th configuration makes a U(1)
// L=16 part about 11% of the size of saving every one. The ensemble columns
// repeat the metadata on every row, so that ensembles concatenate and group
// in Polars (nodejs-polars cannot read schema metadata); Open checks that
// they equal it.
//
// Float32 configurations are the nearest float32 of each value: relative
// error at most 2^-24 (6.0e-8), so at most 2^-22 (2.4e-7) absolute for
// angles in [0, 2pi). An angle just below 2pi may round to float32(2pi) =
// 6.2831855, above 2pi; reduce modulo 2pi where that matters. Open widens
// them to float64.
//
// Polars reads a directory with pl.scan_ipc("DIR/part-*.arrow") and
// several ensembles with pl.concat of such scans, grouped by L and the
// couplings; pandas with pd.read_feather per part; apache-arrow with
// tableFromIPC; nodejs-polars with readIPC on the bytes of a part or
// scanIPC of the glob. The seed (uint64) is exact in all of them.
//
// # Columns, format 1
//
// Written by latflow before format 2 (and by WriterOptions.Format = 1):
//
//	chain, step, accepted, action   as in format 2
//	<obs>     float64  one column per observable
//	<config>  fixed_size_list<item: float64, nullable>[size], nullable
//	          (optional), as in format 2
//
// without ensemble or string columns. Rows of a null configuration still
// occupy size*8 bytes of the list's child array (Arrow's fixed-size list
// layout), so the bytes per row do not shrink with the save interval.
//
// # Metadata
//
// The schema metadata of every part holds these string key-value pairs:
//
//	latflow.format           format version of this layout, "1" or "2"
//	latflow.version          latflow version that wrote the part
//	latflow.theory           theory: "u1" or "phi4"
//	latflow.L                lattice extent L (decimal)
//	latflow.coupling.NAME    one key per coupling: beta (U(1)); m2, lambda
//	                         (phi^4, standard) or kappa, lambda (phi^4,
//	                         hopping); shortest decimal that round-trips
//	latflow.parametrization  "standard" or "hopping" for phi^4, "" for U(1)
//	latflow.sampler          sampler name, e.g. "hmc" or "imh"
//	latflow.sampler.NAME     one key per sampler setting (tau, steps,
//	                         save_every, model, ...)
//	latflow.seed             random seed of the chain (decimal uint64)
//	latflow.chain            chain id (decimal)
//
// and in format 2 also
//
//	latflow.config_size      values per configuration (with a configuration column)
//	latflow.part.rows        rows in the part
//	latflow.part.first_step  smallest step of the part
//	latflow.part.last_step   largest step of the part
//	latflow.part.configs     non-null configurations in the part
//
// (the latflow.part keys differ between parts; Inspect reads them from the
// file footer without reading the rows).
//
// # Reading
//
// Open refuses to mix parts whose theory, L, parametrization or couplings
// differ, whose observable or label columns differ, or whose format version
// is neither 1 nor 2; parts without a configuration column mix with parts
// that have one, and float32 with float64 configurations. Parts of one
// dataset may come from different samplers and latflow versions. Then
// Dataset.Check, unless OpenOptions.SkipChecks, refuses what would make
// errors wrong: two chains with the same (seed, chain id), e.g. one chain id
// in two directories written with the same seed, which would count as
// independent replicas; a chain whose parts come from different seeds; and
// a chain whose steps are not contiguous from its first step. The same chain
// id with different seeds in two directories gives two independent chains.
//
// # Memory
//
// Writers and readers take a memory.Allocator (nil means
// memory.DefaultAllocator) for the Arrow buffers and release every buffer
// they allocate; values handed back by Open are plain Go slices. Open reads
// one part into memory at a time.
package dataset
