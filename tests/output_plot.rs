//! Plot, CSV and table outputs written to real files: SVGs carry the expected axis labels
//! and legend entries, PNGs are valid and sized as documented.

use mtjsim::output::plot::{CHART_SIZE, PANEL_HEIGHT, TITLE_HEIGHT, WIDTH};
use mtjsim::output::{
    final_values_table, heatmap, histogram, line_chart, plot_waveforms, write_csv,
};
use mtjsim::results::{Plot, VecKind, Vector};
use mtjsim::testing::TempDir;
use std::path::Path;

fn tran() -> Plot {
    let t: Vec<f64> = (0..=200).map(|i| i as f64 * 0.1e-9).collect();
    let vec = |name: &str, kind, f: &dyn Fn(f64) -> f64| Vector {
        name: name.into(),
        kind,
        data: t.iter().map(|&x| f(x)).collect(),
    };
    Plot {
        title: "mtj switching".into(),
        name: "Transient Analysis".into(),
        scale: vec("time", VecKind::Time, &|x| x),
        vectors: vec![
            vec("v(in)", VecKind::Voltage, &|x| {
                if x > 1e-9 { 1.0 } else { 0.0 }
            }),
            vec("v(out)", VecKind::Voltage, &|x| 1.0 - (-x / 3e-9).exp()),
            vec("i(v1)", VecKind::Current, &|x| -2.5e-3 * (-x / 3e-9).exp()),
            vec("mz(m1)", VecKind::Other, &|x| (x * 1e9).cos()),
            vec("temp(m1)", VecKind::Temperature, &|x| 300.0 + x * 1e9),
        ],
    }
}

/// Whether the SVG has a `<text>` element whose content is exactly `want`.
fn svg_has_text(svg: &str, want: &str) -> bool {
    svg.split("<text").skip(1).any(|t| {
        t.split_once('>')
            .and_then(|(_, rest)| rest.split_once("</text>"))
            .is_some_and(|(content, _)| content.trim() == want)
    })
}

/// (width, height) from a PNG's IHDR chunk, after checking the signature.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn waveform_svg_has_labels_and_legend() {
    let dir = TempDir::new("plot-svg").unwrap();
    let svg = dir.path().join("wave.svg");
    plot_waveforms(&svg, &tran(), None).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..100.min(text.len())]);
    for want in [
        "time (ns)",
        "voltage (V)",
        "current (mA)",
        "temperature (K)",
        "value",
        "v(in)",
        "v(out)",
        "i(v1)",
        "mz(m1)",
        "temp(m1)",
        "mtj switching — Transient Analysis",
    ] {
        assert!(svg_has_text(&text, want), "SVG lacks text {want:?}");
    }
    let height: u32 = TITLE_HEIGHT + 4 * PANEL_HEIGHT;
    assert!(text.contains(&format!("width=\"{WIDTH}\" height=\"{height}\"")));
}

#[test]
fn waveform_png_signature_and_size() {
    let dir = TempDir::new("plot-png").unwrap();
    let png = dir.path().join("wave.PNG");
    let which = vec!["V(OUT)".to_string(), "i(v1)".to_string()];
    plot_waveforms(&png, &tran(), Some(&which)).unwrap();
    assert_eq!(png_size(&png), (WIDTH, TITLE_HEIGHT + 2 * PANEL_HEIGHT));

    let bad = vec!["v(nope)".to_string()];
    let e = plot_waveforms(&png, &tran(), Some(&bad)).unwrap_err();
    assert!(e.contains("v(nope)"), "{e}");
    assert!(plot_waveforms(&dir.path().join("x.pdf"), &tran(), None).is_err());
}

#[test]
fn single_point_and_dc_plots_draw() {
    let dir = TempDir::new("plot-op").unwrap();
    let op = Plot {
        title: "op".into(),
        name: "Operating Point".into(),
        scale: Vector {
            name: "v-sweep".into(),
            kind: VecKind::Voltage,
            data: vec![0.5],
        },
        vectors: vec![Vector {
            name: "v(out)".into(),
            kind: VecKind::Voltage,
            data: vec![f64::NAN],
        }],
    };
    let svg = dir.path().join("op.svg");
    plot_waveforms(&svg, &op, None).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_has_text(&text, "v-sweep (mV)"));
    assert!(svg_has_text(&text, "op — Operating Point"));
}

#[test]
fn generic_charts_svg_and_png() {
    let dir = TempDir::new("plot-generic").unwrap();
    let series = vec![
        (
            "P_sw @ 1 ns".to_string(),
            (0..20)
                .map(|i| (i as f64, (i as f64 / 5.0).tanh()))
                .collect(),
        ),
        (
            "P_sw @ 2 ns".to_string(),
            (0..20)
                .map(|i| (i as f64, (i as f64 / 3.0).tanh()))
                .collect(),
        ),
    ];
    let x: Vec<f64> = (0..12).map(|i| i as f64 * 0.5).collect();
    let y: Vec<f64> = (0..8).map(|j| 100.0 + j as f64 * 10.0).collect();
    let z: Vec<Vec<f64>> = y
        .iter()
        .map(|yy| x.iter().map(|xx| (xx * yy / 400.0).tanh()).collect())
        .collect();
    let samples: Vec<f64> = (0..1000)
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0)
        .collect();
    for ext in ["svg", "png"] {
        let p = dir.path().join(format!("line.{ext}"));
        line_chart(
            &p,
            "switching probability",
            "amplitude (V)",
            "P_sw",
            &series,
        )
        .unwrap();
        let h = dir.path().join(format!("heat.{ext}"));
        heatmap(
            &h,
            "P_sw map",
            "width (ns)",
            "current (µA)",
            "P_sw",
            &x,
            &y,
            &z,
        )
        .unwrap();
        let g = dir.path().join(format!("hist.{ext}"));
        histogram(&g, "switching time", "t_sw (ns)", &samples, 25).unwrap();
        if ext == "svg" {
            let l = std::fs::read_to_string(&p).unwrap();
            for want in [
                "amplitude (V)",
                "P_sw",
                "P_sw @ 1 ns",
                "P_sw @ 2 ns",
                "switching probability",
            ] {
                assert!(svg_has_text(&l, want), "line chart lacks {want:?}");
            }
            let hm = std::fs::read_to_string(&h).unwrap();
            for want in ["width (ns)", "current (µA)", "P_sw", "P_sw map"] {
                assert!(svg_has_text(&hm, want), "heatmap lacks {want:?}");
            }
            let hs = std::fs::read_to_string(&g).unwrap();
            for want in ["t_sw (ns)", "count", "switching time"] {
                assert!(svg_has_text(&hs, want), "histogram lacks {want:?}");
            }
        } else {
            for f in [&p, &h, &g] {
                assert_eq!(png_size(f), CHART_SIZE, "{}", f.display());
            }
        }
    }
    let bad = vec![vec![1.0; 3]; 2];
    assert!(
        heatmap(
            &dir.path().join("bad.svg"),
            "t",
            "x",
            "y",
            "z",
            &x,
            &y,
            &bad
        )
        .is_err()
    );
}

#[test]
fn csv_file_and_final_table() {
    let dir = TempDir::new("csv").unwrap();
    let p = tran();
    let path = dir.path().join("out.csv");
    write_csv(&path, &p).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("time,v(in),v(out),i(v1),mz(m1),temp(m1)")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), p.len());
    assert_eq!(rows[150][2], p.vectors[1].data[150]);

    let table = final_values_table(&p);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(
        lines[0].starts_with("v(in)") && lines[0].ends_with("1.000 V"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("i(v1)") && lines[2].ends_with("-3.182 µA"),
        "{table}"
    );
    assert!(lines[4].ends_with("320.000 K"), "{table}");
}
