//! Small inline SVG charts: lines over days and bars over labels. Each data point is an element
//! of class `pt` or `bar` carrying its value, so a reader (or a test) can count and check them.

use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;
const RIGHT: f64 = 12.0;
const COLORS: &[&str] = &["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

/// One named series of (x label, value) points; x labels are shared across series and ordered.
pub struct Series {
    pub name: String,
    pub points: Vec<(String, f64)>,
}

/// Escape text for HTML and SVG. Control characters (a NUL in a project name) are not
/// characters XML allows: they show as U+FFFD.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn nice_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|v| *v >= max).unwrap_or(max)
}

fn number(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn frame(out: &mut String, title: &str, kind: &str, points: usize, max: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart" data-kind="{kind}" data-points="{points}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
    for i in 0..=4 {
        let y = TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - i as f64 / 4.0);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 3.0,
            number(max * i as f64 / 4.0)
        );
    }
}

fn x_labels(out: &mut String, labels: &[String], x: impl Fn(usize) -> f64) {
    let step = labels.len().div_ceil(8).max(1);
    for (i, label) in labels.iter().enumerate().step_by(step) {
        // Labels at the edges stay inside the chart.
        let anchor = match x(i) {
            v if v > WIDTH - RIGHT - 30.0 => "end",
            v if v < LEFT + 30.0 => "start",
            _ => "middle",
        };
        let _ = write!(out, r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="{anchor}">{}</text>"#, x(i), HEIGHT - 10.0, esc(label));
    }
}

/// Lines, one per series, over the sorted union of their x labels.
pub fn lines(title: &str, series: &[Series], unit: &str) -> String {
    let mut labels: Vec<String> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0.clone())).collect();
    labels.sort();
    labels.dedup();
    let max = nice_max(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max));
    let n = series.iter().map(|s| s.points.len()).sum();
    let x = |i: usize| LEFT + (WIDTH - LEFT - RIGHT) * if labels.len() > 1 { i as f64 / (labels.len() - 1) as f64 } else { 0.5 };
    let y = |v: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - v / max);
    let mut out = String::new();
    frame(&mut out, title, "lines", n, max);
    x_labels(&mut out, &labels, x);
    for (k, s) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let coords: Vec<(f64, f64, &(String, f64))> =
            s.points.iter().map(|p| (x(labels.binary_search(&p.0).unwrap_or(0)), y(p.1), p)).collect();
        let path: Vec<String> = coords.iter().map(|(cx, cy, _)| format!("{cx:.1},{cy:.1}")).collect();
        let _ = write!(out, r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#, path.join(" "));
        for (cx, cy, (label, v)) in coords {
            let _ = write!(
                out,
                r#"<circle class="pt" cx="{cx:.1}" cy="{cy:.1}" r="2.5" fill="{color}" data-value="{v}"><title>{}: {} {} {}</title></circle>"#,
                esc(&s.name),
                esc(label),
                number(*v),
                esc(unit)
            );
        }
    }
    out.push_str("</svg>");
    out.push_str(&legend(series.iter().map(|s| s.name.as_str())));
    out
}

/// Bars, one per label.
pub fn bars(title: &str, points: &[(String, f64)], unit: &str) -> String {
    let max = nice_max(points.iter().map(|p| p.1).fold(0.0, f64::max));
    let slot = (WIDTH - LEFT - RIGHT) / points.len().max(1) as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let mut out = String::new();
    frame(&mut out, title, "bars", points.len(), max);
    let labels: Vec<String> = points.iter().map(|p| p.0.clone()).collect();
    x_labels(&mut out, &labels, x);
    for (i, (label, v)) in points.iter().enumerate() {
        let h = (HEIGHT - TOP - BOTTOM) * v / max;
        let _ = write!(
            out,
            r##"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#1f77b4" data-value="{v}"><title>{}: {} {}</title></rect>"##,
            x(i) - slot * 0.4,
            HEIGHT - BOTTOM - h,
            slot * 0.8,
            esc(label),
            number(*v),
            esc(unit)
        );
    }
    out.push_str("</svg>");
    out
}

fn legend<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = names
        .enumerate()
        .map(|(k, n)| format!(r#"<span><i style="background:{}"></i>{}</span>"#, COLORS[k % COLORS.len()], esc(n)))
        .collect();
    format!(r#"<div class="legend">{}</div>"#, items.join(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_is_an_element() {
        let s = Series { name: "a<b".into(), points: vec![("2026-10-01".into(), 1.0), ("2026-10-02".into(), 3.5)] };
        let svg = lines("t", &[s], "s");
        assert_eq!(svg.matches(r#"class="pt""#).count(), 2);
        assert!(svg.contains(r#"data-points="2""#) && svg.contains("a&lt;b"));
        let b = bars("t", &[("x".into(), 2.0), ("y".into(), 0.0)], "");
        assert_eq!(b.matches(r#"class="bar""#).count(), 2);
        assert_eq!(nice_max(7.3), 10.0);
        assert_eq!(nice_max(0.0), 1.0);
    }
}
