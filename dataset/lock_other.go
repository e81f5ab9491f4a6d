//go:build !unix

package dataset

// oNoFollow is 0 where O_NOFOLLOW does not exist; notSymlink checks before
// opening.
const oNoFollow = 0
