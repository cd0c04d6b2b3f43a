//! The report's energy bookkeeping and its HTML.

use super::{Provenance, Report};
use crate::energy::EnergyTable;
use crate::mapping::circuit::load_card;
use crate::mapping::pipeline::{EvalConfig, evaluate};
use crate::mapping::quantize::Scheme;
use crate::mapping::tile::ArrayParams;

fn lib(section: &str) -> String {
    format!(
        "{}/device_models/mtj.lib:{section}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn tiny_report() -> Report {
    let mut net = crate::mapping::tests::tiny_network();
    net.samples.truncate(1);
    let (syn, _) = load_card(&lib("pmtj_mem")).unwrap();
    let (neu, _) = load_card(&lib("ipn_neuron")).unwrap();
    let cfg = EvalConfig {
        scheme: Scheme::Differential,
        bits: 2,
        tile: 16,
        array: ArrayParams {
            noise: false,
            ..ArrayParams::default()
        },
        neuron_noise: true,
        samples: 1,
        seed: 4,
        mc_sigmas: vec![0.05],
        mc_samples: 1,
    };
    let res = evaluate(&net, &syn, &neu, &cfg, "test", &|_| {}).unwrap();
    let prov = Provenance {
        command: "test".into(),
        synapse_card: lib("pmtj_mem"),
        neuron_card: lib("ipn_neuron"),
        seed: 4,
        network: "tiny".into(),
        wall_s: 0.0,
    };
    Report::build(&net, &res, &EnergyTable::default(), &prov)
}

/// Total = Σ parts, and the simulated parts (integrated per window / per phase from the
/// recorded waveforms) equal the engine's own ∫ Σ source power over the same runs.
#[test]
fn report_energy_is_sum_of_parts_and_engine_integral() {
    let r = tiny_report();
    let sum: f64 = r.energy_parts.iter().map(|p| p.joules).sum();
    assert!((r.energy_total_j - sum).abs() <= 1e-12 * sum);
    let sim = r.simulated_j();
    assert!(sim > 0.0);
    let rel = (sim - r.engine_energy_j).abs() / r.engine_energy_j;
    assert!(
        rel < 1e-6,
        "simulated parts {sim:e} J vs engine {:e} J",
        r.engine_energy_j
    );
    // Arrays and neurons both contribute (the check is not carried by one of them alone).
    assert!(
        r.energy_parts
            .iter()
            .filter(|p| p.origin == "simulated" && p.joules > 0.0)
            .count()
            >= 2
    );
    // HTML: balanced tags, inline SVG, nothing fetched from outside.
    let dir = std::env::temp_dir().join(format!("mtjsim-report-test-{}", std::process::id()));
    r.write(&dir).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    check_html(&html).unwrap();
    assert!(html.matches("<svg").count() >= 3);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        json["energy_parts"].as_array().unwrap().len(),
        r.energy_parts.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small HTML/SVG well-formedness check: every non-void element closes in order, no
/// external resources.
pub fn check_html(html: &str) -> Result<(), String> {
    const VOID: &[&str] = &["meta", "br", "img", "hr", "link", "input"];
    if html.contains("src=\"http") || html.contains("href=\"http") || html.contains("<script") {
        return Err("external resource or script".into());
    }
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        let self_closing = tag.ends_with('/');
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else {
            let name: String = tag
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if name.is_empty() {
                return Err(format!("bad tag <{tag}>"));
            }
            if !self_closing && !VOID.contains(&name.as_str()) {
                stack.push(name);
            }
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

#[test]
fn html_checker_rejects_broken_nesting() {
    assert!(check_html("<html><body><p>x</p></body></html>").is_ok());
    assert!(check_html("<html><body><p>x</body></html>").is_err());
    assert!(check_html("<html><img src=\"http://x\"></html>").is_err());
}

/// Render report.html in headless Chromium (Debian's `chromium` package, installed by
/// `.ci/run`) to a PNG and check it is a real, non-trivial image. Without chromium the test
/// is skipped with a note, except under `CI`, where a missing browser is a setup error.
#[test]
fn report_renders_in_chromium() {
    let have_chromium = std::process::Command::new("chromium")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_chromium {
        assert!(
            std::env::var_os("CI").is_none(),
            "report_renders_in_chromium: chromium is not on PATH but CI is set; install chromium"
        );
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: report_renders_in_chromium skipped: chromium is not on PATH"
        );
        return;
    }
    let r = tiny_report();
    let dir = std::env::temp_dir().join(format!("mtjsim-report-chromium-{}", std::process::id()));
    r.write(&dir).unwrap();
    let png = dir.join("report.png");
    let status = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,3000",
            &format!("--screenshot={}", png.display()),
        ])
        .arg(format!("file://{}", dir.join("report.html").display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("chromium starts");
    assert!(status.success());
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (1200, 3000));
    // A blank page compresses to a few KB; tables, text and three plots do not.
    assert!(
        bytes.len() > 60_000,
        "screenshot only {} bytes",
        bytes.len()
    );
}

/// A trained checkpoint's report adds the digital backbone: the new parts are its MACs
/// (`inference_ops` minus the crossbar's `ip_in` MACs) × the 8-bit MAC energy and its
/// weight reads × the SRAM word energy, and the total is still the sum of all parts.
#[test]
fn trained_backbone_energy_adds_up() {
    use crate::mapping::trained::HwExtra;
    use crate::network::model::{Arch, ModelKind, Placement};
    let r = tiny_report();
    let before = r.energy_total_j;
    let n_parts = r.energy_parts.len();
    let (tiles, cells, n_baselines) = (r.tiles, r.cells, r.baselines.len());
    let arch = Arch::new(ModelKind::Ipnet, Placement::Frontier, 11, 8);
    let label = r.sample_classes[0].0.unwrap_or(3);
    let hw = HwExtra {
        checkpoint: "test".into(),
        calib_card: "ipn_neuron".into(),
        calib_source: "test".into(),
        step_s: 10e-9,
        decay: 0.6,
        ic0_a: 25e-6,
        pixels: 256,
        channels: 4,
        reference_classes: vec![label],
        spike_agreement_mvm: 1.0,
        spike_agreement_neuron: 1.0,
        spikes_both: 0,
        circuit_only: 0,
        circuit_only_after_fire: 0,
        expected_stochastic_spikes: 0.0,
        drive_max_err: 0.0,
        drive_err_bound: 0.1,
        tile_transients: 1,
        tile_pixel_runs: 256,
        tile_sims: Vec::new(),
        reset_j: 1e-13,
        reset_ok: true,
        reset_i_a: 1e-4,
        reset_s: 5e-9,
    };
    let t = EnergyTable::default();
    let r2 = r.with_trained(&hw, &arch, &t);
    let sum: f64 = r2.energy_parts.iter().map(|p| p.joules).sum();
    assert!((r2.energy_total_j - sum).abs() <= 1e-12 * sum);
    assert_eq!(r2.energy_parts.len(), n_parts + 2);
    let tr = r2.trained.as_ref().unwrap();
    let macs = arch.inference_ops().0 - 16 * 16 * 4 * 2 * 8;
    assert_eq!(tr.backbone.macs, macs as f64);
    let mac_j = t.digital.mul8_j + t.digital.add8_j;
    let added = r2.energy_total_j - before;
    let want = macs as f64 * mac_j + tr.backbone.memory_accesses * tr.backbone.word_j;
    assert!((added - want).abs() <= 1e-9 * want, "{added:e} vs {want:e}");
    // Reference accuracy from the labels: the one sample's reference class is its label
    // (when the tiny network has labels), else there is no accuracy.
    assert_eq!(tr.accuracy_reference, r2.sample_classes[0].0.map(|_| 1.0));
    // One tile per pixel: counts scale with the pixels.
    assert_eq!(r2.tiles, 256 * tiles);
    assert_eq!(r2.cells, 256 * cells);
    // The trained section renders: every row of its table has exactly two cells (a stray
    // `|` in a label would split it), and the HTML stays well-formed.
    let md = r2.markdown(&[]);
    let sec = md
        .split("## Trained IPNet")
        .nth(1)
        .unwrap()
        .split("\n#")
        .next()
        .unwrap();
    let rows: Vec<&str> = sec.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.len() >= 8, "{sec}");
    for row in rows {
        assert_eq!(row.matches('|').count(), 3, "bad table row: {row}");
    }
    let svgs = super::plots::all(&r2).unwrap();
    check_html(&r2.html(&md, &svgs)).unwrap();
    // The like-for-like memory rows: the trained baselines' temporal modules (H = hidden).
    // An LSTM of H = 64 holds 4H² + 2H words (16 KB at 8 bits: the ≤ 32 KB SRAM tier) and
    // touches 4H² + 4H per step; its ratio is its memory energy over ours.
    assert_eq!(r2.baselines.len(), n_baselines + 3);
    assert_eq!(r2.ratios.len(), r2.baselines.len());
    let (b, q) = r2
        .baselines
        .iter()
        .zip(&r2.ratios)
        .find(|(b, _)| b.name.starts_with("LSTM as trained"))
        .unwrap();
    let h = arch.hidden as f64;
    assert_eq!(b.stored_words, 4.0 * h * h + 2.0 * h);
    assert_eq!(b.memory_accesses, 4.0 * h * h + 4.0 * h);
    assert_eq!(
        b.word_j,
        t.digital.sram32k_64b_j * t.digital.word_bits / 64.0
    );
    let want = b.memory_j / r2.ip_memory_per_step_j;
    assert!((q.our_ratio_memory - want).abs() <= 1e-12 * want);
    assert_eq!(q.baseline, b.name);
    assert!(md.contains("as trained"));
    // Backbone latency: its MACs at the table's accelerator throughput.
    assert_eq!(
        tr.backbone_latency_s,
        tr.backbone.macs / t.digital.mac_per_s
    );
    assert!(md.contains("digital backbone (estimate"));
}
