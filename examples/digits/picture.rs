//! The digits example's picture: the loss per epoch, the held-out confusion matrix, and the
//! misclassified held-out digits with what the network took them for. Text is drawn with the font
//! shipped in `examples/fonts/` (its license beside it), so no system fonts are needed.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

#[path = "../shared/pictures.rs"]
mod pictures;

/// A held-out image, its label and the network's answer.
pub struct Digit {
    /// Pixels in [0, 1], row by row.
    pub pixels: [f32; 64],
    pub label: usize,
    pub predicted: usize,
}

/// Writes the picture to `path` (a PNG).
pub fn draw(path: &Path, losses: &[f32], held_out: &[Digit]) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    pictures::register_font()?;
    let root = BitMapBackend::new(path, (1500, 560)).into_drawing_area();
    let error = |e: DrawingAreaErrorKind<_>| format!("cannot draw {}: {e:?}", path.display());
    root.fill(&WHITE).map_err(error)?;
    let right = held_out.iter().filter(|d| d.label == d.predicted).count();
    let title = format!(
        "A CNN on the 8 × 8 digits: {right} of {} held-out images right ({:.2}%)",
        held_out.len(),
        100.0 * right as f64 / held_out.len().max(1) as f64
    );
    let root = root.titled(&title, ("sans-serif", 24)).map_err(error)?;
    let (loss_area, rest) = root.split_horizontally(480);
    let (matrix_area, wrong_area) = rest.split_horizontally(520);

    // The mean loss per epoch, on a log axis.
    pictures::loss_chart(&loss_area, losses, "Mean training loss per epoch", "cross entropy (log scale)", true)
        .map_err(error)?;

    // The confusion matrix: rows the true digit, columns the answer, each cell's count.
    let mut counts = [[0usize; 10]; 10];
    for d in held_out {
        counts[d.label.min(9)][d.predicted.min(9)] += 1;
    }
    let most = counts.iter().flatten().copied().max().unwrap_or(1).max(1);
    let mut chart = ChartBuilder::on(&matrix_area)
        .caption("Held-out confusion matrix (counts)", ("sans-serif", 17))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((0i32..9).into_segmented(), (0i32..9).into_segmented())
        .map_err(error)?;
    // A cell's label at its centre; the true digit grows downwards, 0 in the top row.
    let column = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(v) => v.to_string(),
        _ => String::new(),
    };
    let row = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(v) => (9 - v).to_string(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("predicted digit")
        .y_desc("true digit")
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
        .x_labels(10)
        .y_labels(10)
        .x_label_formatter(&column)
        .y_label_formatter(&row)
        .draw()
        .map_err(error)?;
    for (label, row) in counts.iter().enumerate() {
        for (predicted, &count) in row.iter().enumerate() {
            let (x, y) = (predicted as i32, 9 - label as i32);
            let shade = (count as f64 / most as f64).sqrt();
            let colour = if label == predicted {
                RGBColor(255 - (150.0 * shade) as u8, 255 - (80.0 * shade) as u8, 255 - (150.0 * shade) as u8)
            } else {
                RGBColor(255, 255 - (200.0 * shade) as u8, 255 - (200.0 * shade) as u8)
            };
            let corners = [
                (SegmentValue::Exact(x), SegmentValue::Exact(y + 1)),
                (SegmentValue::Exact(x + 1), SegmentValue::Exact(y)),
            ];
            chart.draw_series([Rectangle::new(corners, colour.filled())]).map_err(error)?;
            if count > 0 {
                let style = ("sans-serif", 15)
                    .into_font()
                    .into_text_style(&matrix_area)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let text = Text::new(count.to_string(), (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)), style);
                chart.draw_series([text]).map_err(error)?;
            }
        }
    }
    // The misclassified digits, each with its label and the answer.
    let wrong: Vec<&Digit> = held_out.iter().filter(|d| d.label != d.predicted).collect();
    let (caption, grid) = wrong_area.split_vertically(40);
    let heading = format!("Misclassified held-out digits ({})", wrong.len());
    caption.draw(&Text::new(heading, (10, 15), ("sans-serif", 17).into_font())).map_err(error)?;
    let (cell, pixel) = (160i32, 16i32);
    let (across, shown) = (3, 6);
    for (k, d) in wrong.iter().enumerate().take(shown) {
        let (left, top) = (10 + (k % across) as i32 * cell, 10 + (k / across) as i32 * (cell + 20));
        for (p, &v) in d.pixels.iter().enumerate() {
            let (px, py) = (left + (p % 8) as i32 * pixel, top + (p / 8) as i32 * pixel);
            let grey = 255 - (255.0 * v.clamp(0.0, 1.0)) as u8;
            grid.draw(&Rectangle::new([(px, py), (px + pixel, py + pixel)], RGBColor(grey, grey, grey).filled()))
                .map_err(error)?;
        }
        grid.draw(&Rectangle::new([(left, top), (left + 8 * pixel, top + 8 * pixel)], BLACK.stroke_width(1)))
            .map_err(error)?;
        let article = |digit: usize| if digit == 8 { "an" } else { "a" };
        let text = format!("{} {}, taken for {} {}", article(d.label), d.label, article(d.predicted), d.predicted);
        grid.draw(&Text::new(text, (left, top + 8 * pixel + 6), ("sans-serif", 15).into_font())).map_err(error)?;
    }
    if wrong.len() > shown {
        let more = format!("and {} more", wrong.len() - shown);
        grid.draw(&Text::new(more, (10, 10 + 2 * (cell + 20)), ("sans-serif", 15).into_font())).map_err(error)?;
    }
    root.present().map_err(error)
}
