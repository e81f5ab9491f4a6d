package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Output formats, chosen by the file's extension.
const (
	PNG = "png"
	SVG = "svg"
)

// Format returns the picture format of an output path by its extension,
// .png or .svg (any case).
func Format(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return PNG, nil
	case ".svg":
		return SVG, nil
	case "":
		return "", fmt.Errorf("plots: %s has no extension; want .png or .svg", path)
	default:
		return "", fmt.Errorf("plots: unknown picture format %s of %s; want .png or .svg", ext, path)
	}
}

// Figure is a picture of one or more panels in a grid.
type Figure struct {
	// Panels[row][col]; every row has the same number of panels.
	Panels        [][]*plot.Plot
	Width, Height vg.Length
}

// newFigure returns a figure of rows x cols empty panels.
func newFigure(rows, cols int, width, height vg.Length) *Figure {
	f := &Figure{Width: width, Height: height, Panels: make([][]*plot.Plot, rows)}
	for r := range f.Panels {
		f.Panels[r] = make([]*plot.Plot, cols)
		for c := range f.Panels[r] {
			f.Panels[r][c] = plot.New()
		}
	}
	return f
}

// Render draws the figure in format (PNG or SVG) to w.
func (f *Figure) Render(w io.Writer, format string) error {
	var (
		c  vg.CanvasWriterTo
		cv vg.CanvasSizer
	)
	switch format {
	case PNG:
		img := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseBackgroundColor(color.White))
		c, cv = vgimg.PngCanvas{Canvas: img}, img
	case SVG:
		s := vgsvg.New(f.Width, f.Height)
		c, cv = s, s
	default:
		panic(fmt.Sprintf("plots: unknown format %q", format))
	}
	dc := draw.New(cv)
	rows, cols := len(f.Panels), len(f.Panels[0])
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(f.Panels, tiles, dc)
	for r := range f.Panels {
		for col, p := range f.Panels[r] {
			p.Draw(canvases[r][col])
		}
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("plots: writing %s: %w", format, err)
	}
	return nil
}

// Save renders the figure in the format of path's extension and writes it
// atomically: to a temporary file in the same directory, renamed to path.
func (f *Figure) Save(path string) (err error) {
	format, err := Format(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := f.Render(&buf, format); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("plots: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("plots: writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

// palette is the colour of the i-th curve of a panel (Tableau 10).
func palette(i int) color.Color {
	c := [...]color.RGBA{
		{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
		{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
	}
	return c[i%len(c)]
}
