//go:build unix

package dataset

import "golang.org/x/sys/unix"

// oNoFollow makes an open fail on a symbolic link (O_NOFOLLOW).
const oNoFollow = unix.O_NOFOLLOW
