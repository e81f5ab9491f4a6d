package plots_test

import (
	"bytes"
	"fmt"
	"image/png"

	"latflow/flowtrain"
	"latflow/plots"
)

func ExampleTrain() {
	// A training log of 200 steps, with a fresh-sample ESS every 50.
	rows := make([]flowtrain.LogRow, 200)
	for i := range rows {
		x := float64(i) / 200
		rows[i] = flowtrain.LogRow{Step: int64(i + 1), Loss: -5 - 3*x, StdLogW: 2 - x, ESS: 0.1 + 0.5*x, LR: 1e-3, WallSeconds: 0.05 * float64(i+1)}
		if (i+1)%50 == 0 {
			rows[i].ESSFresh = 0.4 * x
		}
	}
	f, err := plots.Train([]plots.TrainLog{{Label: "a.flow", Rows: rows}}, plots.TrainSteps)
	if err != nil {
		fmt.Println(err)
		return
	}
	format, err := plots.Format("curves.png") // what Save would write
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := f.Render(&buf, format); err != nil {
		fmt.Println(err)
		return
	}
	img, err := png.Decode(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s, %d x %d panels, %d x %d pixels\n", format, len(f.Panels), len(f.Panels[0]), img.Bounds().Dx(), img.Bounds().Dy())
	_, err = plots.Format("curves.jpg")
	fmt.Println(err)
	// Output:
	// png, 2 x 3 panels, 1344 x 672 pixels
	// plots: unknown picture format .jpg of curves.jpg; want .png or .svg
}
