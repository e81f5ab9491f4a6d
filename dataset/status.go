package dataset

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// PartInfo describes one part file.
type PartInfo struct {
	Path          string
	Index         int // part index from the file name (-1 if not named by PartName)
	Format        int // format version
	Meta          Meta
	Rows          int
	FirstStep     int64 // smallest step (0 without rows)
	LastStep      int64 // largest step (0 without rows)
	Configs       int   // non-null configurations
	ConfigFloat32 bool  // configurations stored as float32
	Checksum      bool  // Open verified the part against its checksum
}

// partKeys decodes the per-part metadata of a format 2 part into the Rows,
// FirstStep, LastStep and Configs of a PartInfo.
func partKeys(md arrow.Metadata) (PartInfo, error) {
	var info PartInfo
	for _, k := range []struct {
		key string
		dst *int64
	}{
		{KeyPartFirstStep, &info.FirstStep}, {KeyPartLastStep, &info.LastStep},
	} {
		v, _ := md.GetValue(k.key)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return PartInfo{}, fmt.Errorf("bad %s %q", k.key, v)
		}
		*k.dst = n
	}
	for _, k := range []struct {
		key string
		dst *int
	}{
		{KeyPartRows, &info.Rows}, {KeyPartConfigs, &info.Configs},
	} {
		v, _ := md.GetValue(k.key)
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return PartInfo{}, fmt.Errorf("bad %s %q", k.key, v)
		}
		*k.dst = n
	}
	return info, nil
}
