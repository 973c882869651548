//! SVG plots (plotters): the growth curves of every server on one chart.

use std::path::Path;

use plotters::prelude::*;

use crate::live::growth::Curve;
use crate::BenchError;

/// Colours of the servers' lines, in turn.
const COLOURS: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

/// Draws the append latency (each point's median, relative to the server's first point)
/// against the stream's length, one line per server, into `path`.
pub fn growth(curves: &[Curve], path: &Path) -> Result<(), BenchError> {
    let err = |e: &dyn std::fmt::Display| BenchError::Plot(format!("{}: {e}", path.display()));
    let max_x = curves.iter().flat_map(|c| c.points.iter().map(|p| p.events)).max().unwrap_or(1).max(1);
    let relative = |c: &Curve| -> Vec<(f64, f64)> {
        let base = c.points.first().map(|p| p.append_us.median).unwrap_or(1.0).max(1e-9);
        c.points.iter().map(|p| (p.events as f64, p.append_us.median / base)).collect()
    };
    let max_y = curves.iter().flat_map(|c| relative(c).into_iter().map(|(_, y)| y)).fold(2.5_f64, f64::max) * 1.1;
    let root = SVGBackend::new(path, (760, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("A one-event append as one stream document grows", ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..max_x as f64 * 1.02, 0f64..max_y)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("events in the stream")
        .y_desc("append latency (× the empty stream's)")
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(LineSeries::new([(0.0, 2.0), (max_x as f64 * 1.02, 2.0)], BLACK.mix(0.3)))
        .map_err(|e| err(&e))?
        .label("twice the empty stream's")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.mix(0.3)));
    for (i, c) in curves.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points = relative(c);
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(&c.server)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled()))).map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
