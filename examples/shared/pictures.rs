//! What the circle and digits examples' pictures share: the font their text is drawn with,
//! shipped in `examples/fonts/` (its license beside it) so that no system fonts are needed, and a
//! chart of the loss per epoch on a labelled log axis.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Makes the shipped DejaVu Sans plotters' "sans-serif".
pub fn register_font() -> Result<(), String> {
    const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the shipped font does not load".to_string())
}

/// Draws `losses`, one per epoch from epoch 1, as a line on a log axis labelled `y_desc`, under
/// `caption`, with a dot at each epoch if `dots`.
pub fn loss_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    losses: &[f32],
    caption: &str,
    y_desc: &str,
    dots: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (low, high) = losses.iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    let low = low.max(f32::MIN_POSITIVE);
    let high = high.max(low * 10.0);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 17))
        .margin(12)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(1usize..losses.len().max(2), (low * 0.8..high * 1.25).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
        // Not `max_light_lines(0)`: on a log axis plotters 0.3.7 then never returns.
        .light_line_style(TRANSPARENT)
        .y_label_formatter(&|v| format!("{}", (v * 1000.0).round() / 1000.0))
        .draw()?;
    let points = losses.iter().enumerate().map(|(i, &l)| (i + 1, l.max(low)));
    chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)))?;
    if dots {
        chart.draw_series(points.map(|p| Circle::new(p, 3, BLUE.filled())))?;
    }
    Ok(())
}
