//! The energy-per-inference report: report.md, a self-contained report.html (SVG plots
//! inline, no external resources) and report.json, all from one [`Report`] value so the
//! three never disagree. Every figure names what produced it (netlist, model card, seed,
//! command) — see docs/report.md for how to read it.

mod plots;

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use crate::energy::EnergyTable;
use crate::energy::baseline::{Baseline, baselines};
use crate::mapping::network::{LayerKind, NetworkFile};
use crate::mapping::pipeline::{EvalResult, McPoint};
use crate::mapping::trained::HwExtra;
use crate::network::model::Arch;

/// Where the numbers came from.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub command: String,
    pub synapse_card: String,
    pub neuron_card: String,
    pub seed: u64,
    pub network: String,
    pub wall_s: f64,
}

/// One line of the energy breakdown (per inference, averaged over the samples).
#[derive(Debug, Clone, Serialize)]
pub struct EnergyPart {
    pub name: String,
    pub joules: f64,
    /// "simulated" (∫v·i of sources in mtjsim transients) or "table" (periphery table).
    pub origin: String,
    pub count: f64,
    pub per_op_j: Option<f64>,
}

/// Paper vs ours for one memory comparison.
#[derive(Debug, Clone, Serialize)]
pub struct RatioRow {
    pub baseline: String,
    pub paper_ratio: Option<f64>,
    pub our_ratio_memory: f64,
    pub our_ratio_total_neuron: f64,
}

/// The IPNet paper's memory-power ratios against the baselines in the order
/// [`baselines`] returns them (RNN, LSTM, 2+1D CNN); it reports none for the RNN.
const PAPER_RATIOS: [Option<f64>; 3] = [None, Some(2874.0), Some(90920.0)];

/// Weight-file stems of the shipped baselines, in the same order.
const BASELINE_STEMS: [&str; 3] = ["rnn", "lstm", "cnn2p1d"];

impl RatioRow {
    /// `b`'s memory energy per step over ours, with and without our periphery.
    fn of(b: &Baseline, paper_ratio: Option<f64>, ours_j: f64, ours_total_j: f64) -> RatioRow {
        RatioRow {
            baseline: b.name.clone(),
            paper_ratio,
            our_ratio_memory: b.memory_j / ours_j.max(1e-300),
            our_ratio_total_neuron: b.memory_j / ours_total_j.max(1e-300),
        }
    }
}

/// Temporal kernel of the shipped 2+1D-CNN baseline (`tconv.w` is `[H, H, 3]`, see
/// `src/network/model.rs`).
const TRAINED_TCONV_KERNEL: usize = 3;

/// The report's content.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub provenance: Provenance,
    pub network: String,
    pub network_description: String,
    pub samples: usize,
    pub steps: usize,
    pub scheme: String,
    pub bits: u32,
    pub tile: usize,
    pub tiles: usize,
    pub cells: usize,
    pub neurons: usize,
    pub utilization: f64,
    pub i_p_a: f64,
    pub i_ap_a: f64,
    pub wire_r_ohm: f64,
    /// Accuracy table.
    pub class_agreement: f64,
    pub spike_agreement: f64,
    pub mvm_exact: f64,
    pub mvm_max_abs_err: i64,
    pub spikes_behavioural: usize,
    pub spikes_circuit: usize,
    pub neuron_steps: usize,
    pub accuracy_behavioural: Option<f64>,
    pub accuracy_circuit: Option<f64>,
    /// Per sample: (label, behavioural class, circuit class).
    pub sample_classes: Vec<(Option<usize>, usize, usize)>,
    /// Per-weight quantization bound (max |w − q·scale|) per layer and the IR-drop bound
    /// (relative to one cell's on/off current difference, per column).
    pub quant_error: Vec<(f64, f64)>,
    pub ir_drop_bound_lsb: f64,
    /// Measured: largest analog error of a sensed slice before rounding (LSB).
    pub max_analog_err_lsb: f64,
    /// Energy per inference, parts and total (J).
    pub energy_parts: Vec<EnergyPart>,
    pub energy_total_j: f64,
    /// ∫v·i reported by the engine for all simulated runs of the main pass, per inference.
    pub engine_energy_j: f64,
    /// Memory energy per time step: ours (neuron heat + fire + reset) and baselines.
    pub ip_memory_per_step_j: f64,
    pub ip_neuron_total_per_step_j: f64,
    pub baselines: Vec<Baseline>,
    pub ratios: Vec<RatioRow>,
    /// Latency.
    pub settle_max_s: f64,
    pub settle_mean_s: f64,
    pub step_compute_s: f64,
    pub step_period_s: f64,
    pub inference_latency_s: f64,
    /// Area estimate.
    pub cell_area_m2: f64,
    pub array_area_m2: f64,
    pub neuron_area_m2: f64,
    pub mc: Vec<McPoint>,
    pub sim_wall_s: f64,
    /// Tile transients of the main pass: (tile file, windows, unknowns, steps, Newton
    /// iterations, wall s), first sample's run of each tile.
    pub tile_sims: Vec<(String, usize, usize, usize, usize, f64)>,
    /// Neuron transients: runs and total wall time (s).
    pub neuron_runs: u64,
    pub neuron_wall_s: f64,
    pub energy_table: EnergyTable,
    /// Present when the report is of a trained IPNet checkpoint (IP layer simulated,
    /// backbone digital): see [`Report::with_trained`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trained: Option<TrainedSection>,
}

/// The trained-checkpoint part of a report.
#[derive(Debug, Clone, Serialize)]
pub struct TrainedSection {
    pub hw: HwExtra,
    /// Accuracy of the trained float network (software reference) on the same samples.
    pub accuracy_reference: Option<f64>,
    /// Digital backbone (conv1–conv3, fc1, head) per inference: MACs and weight reads.
    pub backbone: Baseline,
    /// MACs of the IP input layer done by the crossbars (not in the backbone).
    pub ip_in_macs: u64,
    /// Per sample: label, reference class, behavioural class, circuit class.
    pub classes: Vec<(Option<usize>, usize, usize, usize)>,
    /// Width of the backbone's fc1 output (the trained baselines' temporal-module size).
    pub hidden: usize,
    /// Backbone latency estimate per inference (s): its MACs at the table's peak throughput.
    pub backbone_latency_s: f64,
}

fn si(x: f64, unit: &str) -> String {
    let a = x.abs();
    let (s, p) = if a == 0.0 {
        (1.0, "")
    } else if a < 1e-15 {
        (1e18, "a")
    } else if a < 1e-12 {
        (1e15, "f")
    } else if a < 1e-9 {
        (1e12, "p")
    } else if a < 1e-6 {
        (1e9, "n")
    } else if a < 1e-3 {
        (1e6, "µ")
    } else if a < 1.0 {
        (1e3, "m")
    } else {
        (1.0, "")
    };
    format!("{:.4} {p}{unit}", x * s)
}

/// Cell footprint estimate: access transistor (W + 2s)(L + 2s) with s = 0.1 µm spacing,
/// at least the MTJ pitch (2d)².
pub fn cell_area_m2(w: f64, l: f64, d: f64) -> f64 {
    let s = 0.1e-6;
    ((w + 2.0 * s) * (l + 2.0 * s)).max(4.0 * d * d)
}

impl Report {
    pub fn build(net: &NetworkFile, r: &EvalResult, t: &EnergyTable, prov: &Provenance) -> Report {
        let ns = r.samples.len().max(1) as f64;
        let per = &t.periphery;
        // Simulated energies.
        let array_j: f64 = r
            .tile_runs
            .iter()
            .flat_map(|(_, x)| &x.window_energy_j)
            .sum();
        let engine_arrays: f64 = r.tile_runs.iter().map(|(_, x)| x.engine_energy_j).sum();
        let (mut heat, mut fire, mut reset) = (0.0, 0.0, 0.0);
        for e in &r.neuron_energy {
            heat += e.heat_j;
            fire += e.fire_j;
            reset += e.reset_j;
        }
        // Operation counts of the periphery (main pass only).
        let (mut conv, mut dac) = (0.0, 0.0);
        for (ti, run) in &r.tile_runs {
            let tile = &r.mapping.tiles[*ti];
            let w = run.currents.len() as f64;
            conv += w * tile.groups.len() as f64;
            dac += w * tile.rows as f64;
        }
        let neurons: usize = net
            .layers
            .iter()
            .filter(|l| l.kind == LayerKind::Ip)
            .map(|l| l.out)
            .sum();
        let neuron_steps = (neurons * net.steps) as f64 * ns;
        let part = |name: &str, j: f64, origin: &str, count: f64, per_op: Option<f64>| EnergyPart {
            name: name.into(),
            joules: j / ns,
            origin: origin.into(),
            count: count / ns,
            per_op_j: per_op,
        };
        let mut parts = vec![
            part(
                "crossbar arrays (drivers → cells → sense)",
                array_j,
                "simulated",
                conv,
                None,
            ),
            part(
                "IP neurons: heating (no spike)",
                heat,
                "simulated",
                neuron_steps,
                None,
            ),
            part(
                "IP neurons: firing pulses",
                fire,
                "simulated",
                neuron_steps,
                None,
            ),
            part("IP neurons: reset", reset, "simulated", neuron_steps, None),
            part(
                "ADC conversions",
                conv * per.adc_j,
                "table",
                conv,
                Some(per.adc_j),
            ),
            part(
                "input drivers (1-bit DAC)",
                dac * per.dac_j,
                "table",
                dac,
                Some(per.dac_j),
            ),
            part(
                "sense amplifiers + S&H",
                conv * per.sense_j,
                "table",
                conv,
                Some(per.sense_j),
            ),
            part(
                "shift-and-add",
                conv * per.add_j,
                "table",
                conv,
                Some(per.add_j),
            ),
            part(
                "neuron current drivers",
                neuron_steps * per.neuron_driver_j,
                "table",
                neuron_steps,
                Some(per.neuron_driver_j),
            ),
            part(
                "neuron comparators",
                neuron_steps * per.comparator_j,
                "table",
                neuron_steps,
                Some(per.comparator_j),
            ),
        ];
        parts.retain(|p| p.count > 0.0 || p.joules != 0.0);
        let total: f64 = parts.iter().map(|p| p.joules).sum();
        let engine = (engine_arrays + r.neuron_engine_energy_j) / ns;
        // Memory comparison per time step.
        let steps = net.steps.max(1) as f64;
        let ip_mem = (heat + fire + reset) / ns / steps;
        let ip_total_neuron = ip_mem + neurons as f64 * (per.neuron_driver_j + per.comparator_j);
        let first_ip = net.layers.iter().find(|l| l.kind == LayerKind::Ip);
        let (i_in, h) = first_ip.map_or((net.inputs, 1), |l| (l.inp, l.out));
        let b = baselines(&t.digital, i_in, h, net.steps);
        let ratios = b
            .iter()
            .zip(PAPER_RATIOS)
            .map(|(x, p)| RatioRow::of(x, p, ip_mem, ip_total_neuron))
            .collect();
        // Latency.
        let settles: Vec<f64> = r
            .tile_runs
            .iter()
            .flat_map(|(_, x)| x.settle_s.iter().copied())
            .collect();
        let settle_max = settles.iter().fold(0.0f64, |a, &b| a.max(b));
        let settle_mean = settles.iter().sum::<f64>() / settles.len().max(1) as f64;
        let layers = net.layers.len() as f64;
        let n_ip = net
            .layers
            .iter()
            .filter(|l| l.kind == LayerKind::Ip)
            .count() as f64;
        let step_compute = layers * (settle_max + per.adc_s)
            + n_ip * (r.neuron.t_reset + r.neuron.t_pulse + per.comparator_s);
        let period = r.neuron.t_step.max(step_compute);
        // Accuracy.
        let n = r.samples.len().max(1) as f64;
        let agree = r
            .samples
            .iter()
            .filter(|s| s.behavioural_class == s.circuit_class)
            .count() as f64
            / n;
        let (se, st) = r
            .samples
            .iter()
            .fold((0, 0), |a, s| (a.0 + s.spikes_equal, a.1 + s.spikes_total));
        let labelled: Vec<_> = r
            .samples
            .iter()
            .filter_map(|s| s.label.map(|l| (l, s)))
            .collect();
        let acc = |f: &dyn Fn(&crate::mapping::pipeline::SampleResult) -> usize| {
            (!labelled.is_empty()).then(|| {
                labelled.iter().filter(|(l, s)| f(s) == *l).count() as f64 / labelled.len() as f64
            })
        };
        // IR-drop bound: a column of `rows` cells, all on, carries ≤ rows·I_P; the far cell
        // sees a drop ≤ wire_r · rows² · I_P / 2 on its column and as much on its row; the
        // error of a column current ≤ rows · G_P · (both drops), in units of I_unit.
        let rows = r.mapping.tiles.iter().map(|t| t.rows).max().unwrap_or(0);
        let cols = r
            .mapping
            .tiles
            .iter()
            .map(|t| t.columns.len())
            .max()
            .unwrap_or(0);
        let per_group = match r.mapping.scheme {
            crate::mapping::quantize::Scheme::MultiCell => r.mapping.bits as usize,
            _ => 1,
        };
        let ir_lsb = crate::mapping::circuit::ir_drop_bound_lsb(
            rows,
            cols,
            per_group,
            r.config.array.wire_r,
            r.i_p_a,
            r.config.array.v_read,
            r.i_unit_a,
        );
        let ca = cell_area_m2(r.config.array.nmos_w, r.config.array.nmos_l, 40e-9);
        let cells = r.mapping.n_cells();
        Report {
            provenance: prov.clone(),
            network: net.name.clone(),
            network_description: net.description.clone(),
            samples: r.samples.len(),
            steps: net.steps,
            scheme: r.mapping.scheme.name().into(),
            bits: r.mapping.bits,
            tile: r.mapping.tile,
            tiles: r.mapping.tiles.len(),
            cells,
            neurons,
            utilization: r.mapping.utilization(),
            i_p_a: r.i_p_a,
            i_ap_a: r.i_ap_a,
            wire_r_ohm: r.config.array.wire_r,
            class_agreement: agree,
            spike_agreement: se as f64 / st.max(1) as f64,
            mvm_exact: r.mvm_exact,
            mvm_max_abs_err: r.mvm_max_abs_err,
            spikes_behavioural: r.samples.iter().map(|s| s.behavioural_spikes).sum(),
            spikes_circuit: r.samples.iter().map(|s| s.circuit_spikes).sum(),
            neuron_steps: st,
            accuracy_behavioural: acc(&|s| s.behavioural_class),
            accuracy_circuit: acc(&|s| s.circuit_class),
            sample_classes: r
                .samples
                .iter()
                .map(|s| (s.label, s.behavioural_class, s.circuit_class))
                .collect(),
            quant_error: r.quant_error.clone(),
            ir_drop_bound_lsb: ir_lsb,
            max_analog_err_lsb: r.max_analog_err_lsb,
            energy_parts: parts,
            energy_total_j: total,
            engine_energy_j: engine,
            ip_memory_per_step_j: ip_mem,
            ip_neuron_total_per_step_j: ip_total_neuron,
            baselines: b,
            ratios,
            settle_max_s: settle_max,
            settle_mean_s: settle_mean,
            step_compute_s: step_compute,
            step_period_s: period,
            inference_latency_s: steps * period,
            cell_area_m2: ca,
            array_area_m2: cells as f64 * ca,
            neuron_area_m2: neurons as f64 * 2.0 * ca,
            mc: r.mc.clone(),
            sim_wall_s: prov.wall_s,
            tile_sims: {
                let mut seen = std::collections::HashSet::new();
                r.tile_runs
                    .iter()
                    .filter(|(ti, _)| seen.insert(*ti))
                    .map(|(ti, x)| {
                        let t = &r.mapping.tiles[*ti];
                        (
                            format!("tile_l{}_r{}_c{}.cir", t.layer, t.row_block, t.col_block),
                            x.currents.len(),
                            x.unknowns,
                            x.steps,
                            x.newton_iterations,
                            x.wall_s,
                        )
                    })
                    .collect()
            },
            neuron_runs: r.neuron_runs,
            neuron_wall_s: r.neuron_wall_s,
            energy_table: t.clone(),
            trained: None,
        }
    }

    /// Add a trained checkpoint's digital backbone (energy from the per-operation table)
    /// and its software reference to a report built from the hardware run of its IP layer.
    pub fn with_trained(mut self, hw: &HwExtra, arch: &Arch, t: &EnergyTable) -> Report {
        let (macs, _) = arch.inference_ops();
        let s = arch.size as u64;
        let ip_in_macs = s * s * arch.ip_channels as u64 * 2 * arch.bins as u64;
        let ip_params = (arch.ip_channels * 3) as f64;
        let bb_weights = arch.param_count() as f64 - ip_params;
        // Weights read once per time bin (conv kernels held in registers across positions);
        // the head once per inference.
        let head = (arch.classes * (arch.hidden + 1)) as f64;
        let reads = (bb_weights - head) * arch.bins as f64 + head;
        let backbone = crate::energy::baseline::digital_part(
            &t.digital,
            "digital backbone (conv1–3, fc1, head)",
            bb_weights,
            reads,
            (macs - ip_in_macs) as f64,
        );
        self.energy_parts.push(EnergyPart {
            name: "digital backbone: MACs (8-bit)".into(),
            joules: backbone.compute_j,
            origin: "table".into(),
            count: backbone.macs,
            per_op_j: Some(backbone.compute_j / backbone.macs.max(1.0)),
        });
        self.energy_parts.push(EnergyPart {
            name: format!("digital backbone: weight reads ({})", backbone.tier),
            joules: backbone.memory_j,
            origin: "table".into(),
            count: backbone.memory_accesses,
            per_op_j: Some(backbone.word_j),
        });
        self.energy_total_j = self.energy_parts.iter().map(|p| p.joules).sum();
        // The like-for-like memory comparison: the temporal modules of the shipped baseline
        // checkpoints trained with this backbone (`weights/{rnn,lstm,cnn2p1d}_C`: the RNN/LSTM
        // after fc1 with I = H = hidden, the 2+1D CNN's temporal conv with kernel 3), next
        // to the rows above that give a digital module the IP layer's own size.
        let h = arch.hidden;
        let trained_sized = baselines(&t.digital, h, h, TRAINED_TCONV_KERNEL);
        for ((b, paper), stem) in trained_sized
            .into_iter()
            .zip(PAPER_RATIOS)
            .zip(BASELINE_STEMS)
        {
            let name = format!(
                "{} as trained (I = H = {h}; weights/{stem}_{})",
                b.name, arch.classes
            );
            let b = Baseline { name, ..b };
            self.ratios.push(RatioRow::of(
                &b,
                paper,
                self.ip_memory_per_step_j,
                self.ip_neuron_total_per_step_j,
            ));
            self.baselines.push(b);
        }
        // One tile per pixel: the mapping above is the tile of one pixel.
        self.tiles *= hw.pixels;
        self.cells *= hw.pixels;
        self.array_area_m2 = self.cells as f64 * self.cell_area_m2;
        // The transients actually simulated (the per-pixel runs are assembled from them).
        self.tile_sims = hw.tile_sims.clone();
        let classes: Vec<_> = hw
            .reference_classes
            .iter()
            .zip(&self.sample_classes)
            .map(|(&r, &(l, b, c))| (l, r, b, c))
            .collect();
        let labelled: Vec<_> = classes
            .iter()
            .filter_map(|c| c.0.map(|l| (l, c.1)))
            .collect();
        let accuracy_reference = (!labelled.is_empty()).then(|| {
            labelled.iter().filter(|(l, r)| l == r).count() as f64 / labelled.len() as f64
        });
        let backbone_latency_s = backbone.macs / t.digital.mac_per_s;
        self.trained = Some(TrainedSection {
            hw: hw.clone(),
            accuracy_reference,
            backbone,
            ip_in_macs,
            classes,
            hidden: arch.hidden,
            backbone_latency_s,
        });
        self
    }

    /// Simulated parts of the energy (J per inference).
    pub fn simulated_j(&self) -> f64 {
        self.energy_parts
            .iter()
            .filter(|p| p.origin == "simulated")
            .map(|p| p.joules)
            .sum()
    }

    fn trained_markdown(&self, o: &mut String, tr: &TrainedSection) {
        let h = &tr.hw;
        let _ = writeln!(
            o,
            "## Trained IPNet: what runs on simulated hardware\n\n\
             Checkpoint `{}`; calibration table of card `{}` ({}): step = one {} pulse of x·Ic0 \
             (Ic0 = {}), decay d = {:.4} per step. **Simulated**: the IP input layer (1×1 conv, \
             per pixel 9 binary rows = 2 polarities × 4 count bits + bias → {} drives) on one \
             crossbar tile per pixel ({} pixels), and all {} IP neurons as `N` elements \
             ({} pulse per step from the P state, thermal node carried over steps, Brown noise \
             as in the calibration). **Digital (table estimate)**: the trained backbone \
             (conv1–3, fc1, mean over time, head) runs in candle on the circuit's spikes; its \
             energy = {:.0} MACs × 8-bit MAC + {:.0} weight reads.\n",
            h.checkpoint,
            h.calib_card,
            h.calib_source,
            si(h.step_s, "s"),
            si(h.ic0_a, "A"),
            h.decay,
            h.channels,
            h.pixels,
            self.neurons,
            si(h.step_s, "s"),
            tr.backbone.macs,
            tr.backbone.memory_accesses,
        );
        let _ = writeln!(o, "| measure | value |\n|---|---|");
        let pct = |x: Option<f64>| x.map_or("n/a".into(), |v| format!("{:.1}%", 100.0 * v));
        let _ = writeln!(
            o,
            "| accuracy: trained network (float, software) / behavioural IP layer / circuit-in-the-loop | {} / {} / {} |",
            pct(tr.accuracy_reference),
            pct(self.accuracy_behavioural),
            pct(self.accuracy_circuit)
        );
        let _ = writeln!(
            o,
            "| spike agreement circuit vs behavioural (float drives) | {:.2}% |",
            100.0 * self.spike_agreement
        );
        let _ = writeln!(
            o,
            "| … of which quantization + ADC: behavioural on sensed vs float drives | {:.2}% |",
            100.0 * h.spike_agreement_mvm
        );
        let _ = writeln!(
            o,
            "| … of which the neuron circuit: circuit vs behavioural on the same sensed drives | {:.2}% |",
            100.0 * h.spike_agreement_neuron
        );
        let _ = writeln!(
            o,
            "| spikes: behavioural / circuit / both (of {} neuron-steps) | {} / {} / {} |",
            self.neuron_steps, self.spikes_behavioural, self.spikes_circuit, h.spikes_both
        );
        let _ = writeln!(
            o,
            "| circuit-only spikes (vs behavioural on the same drives) / of them in neurons that had fired before | {} / {} |",
            h.circuit_only, h.circuit_only_after_fire
        );
        let _ = writeln!(
            o,
            "| spikes expected from the calibration's Monte Carlo P_sw(x, θ) on the sensed drives (stochastic devices) | {:.1} |",
            h.expected_stochastic_spikes
        );
        let _ = writeln!(
            o,
            "| largest drive error max abs(x_sensed − x_trained) (bound 9·scale/2) | {:.4} Ic0 ({:.4} Ic0) |",
            h.drive_max_err, h.drive_err_bound
        );
        let _ = writeln!(
            o,
            "| tile transients simulated / pixel reads they cover | {} / {} |",
            h.tile_transients, h.tile_pixel_runs
        );
        let _ = writeln!(
            o,
            "| latency: IP layer (simulated, {} steps) / digital backbone (estimate: {:.0} MACs at {:.1} GMAC/s peak) / sum | {} / {} / {} |",
            self.steps,
            tr.backbone.macs,
            self.energy_table.digital.mac_per_s / 1e9,
            si(self.inference_latency_s, "s"),
            si(tr.backbone_latency_s, "s"),
            si(self.inference_latency_s + tr.backbone_latency_s, "s")
        );
        let _ = writeln!(
            o,
            "| reset of a fired neuron (one simulated {} pulse of {}; back in P: {}) | {} each |\n",
            si(h.reset_s, "s"),
            si(h.reset_i_a, "A"),
            if h.reset_ok { "yes" } else { "NO" },
            si(h.reset_j, "J")
        );
        let _ = writeln!(
            o,
            "Per sample (label / trained float / behavioural / circuit): {}\n",
            tr.classes
                .iter()
                .map(|(l, r, b, c)| format!(
                    "{} / {r} / {b} / {c}",
                    l.map_or("–".into(), |x| x.to_string())
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
        let _ = writeln!(
            o,
            "With array noise and variation off every pixel's tile is the same circuit and a read settles within its window (settling time below), so each distinct 9-row input vector of a sample is simulated once and its currents, levels and energy are used for every pixel-step that applies it (levels equal per-pixel simulation; a read's energy depends slightly on the read before it, which this ignores: +0.29 % of the array energy on a whole held-out sample, test distinct_reads_whole_sample); no pixel is dropped (with `--array-noise` each pixel's tile is simulated on its own). The device-variation Monte Carlo (below, if `--mc-sigma` is not empty) simulates every pixel's tile on its own with its own cell draws (each pixel's distinct reads once: its tile is fixed during a sample) and uses the behavioural IP layer on the sensed drives. The reset is ideal in time (as in training: its heat is not fed back and it adds no time); its energy is the simulated pulse × the number of circuit spikes. The backbone's latency is an estimate (its MACs at the energy table's peak accelerator throughput, no overlap with the IP layer assumed), not a simulation.\n"
        );
    }

    /// A few lines for the terminal.
    pub fn summary_text(&self) -> String {
        format!(
            "{} tiles, {} cells; class agreement circuit vs behavioural {:.1}% ({} samples), spike agreement {:.2}%, exact MVM outputs {:.2}%\n\
             energy per inference {} (simulated {}), latency {} ({} steps), memory energy per step {}",
            self.tiles,
            self.cells,
            100.0 * self.class_agreement,
            self.samples,
            100.0 * self.spike_agreement,
            100.0 * self.mvm_exact,
            si(self.energy_total_j, "J"),
            si(self.simulated_j(), "J"),
            si(self.inference_latency_s, "s"),
            self.steps,
            si(self.ip_memory_per_step_j, "J"),
        )
    }

    pub fn write_json(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("report.json"), text).map_err(|e| format!("report.json: {e}"))
    }

    /// Write report.md, report.html and report.json into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        self.write_json(dir)?;
        let svgs = plots::all(self)?;
        let md = self.markdown(&svgs.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        for (name, svg) in &svgs {
            std::fs::write(dir.join(name), svg).map_err(|e| format!("{name}: {e}"))?;
        }
        std::fs::write(dir.join("report.md"), &md).map_err(|e| format!("report.md: {e}"))?;
        std::fs::write(dir.join("report.html"), self.html(&md, &svgs))
            .map_err(|e| format!("report.html: {e}"))
    }

    /// The Markdown body (figures referenced as files next to it).
    pub fn markdown(&self, figures: &[String]) -> String {
        let mut o = String::new();
        let p = &self.provenance;
        let _ = writeln!(o, "# IPNet on MTJ hardware: accuracy, energy, latency\n");
        let _ = writeln!(
            o,
            "Produced by `{}` (seed {}, {:.1} s wall).\n",
            p.command, p.seed, p.wall_s
        );
        let _ = writeln!(
            o,
            "- network: {} — {} ({})",
            self.network, p.network, self.network_description
        );
        let _ = writeln!(
            o,
            "- synapse card: `{}`; neuron card: `{}`",
            p.synapse_card, p.neuron_card
        );
        let _ = writeln!(
            o,
            "- mapping: scheme {}, {} bits, tile {}: {} tiles, {} cells (utilization {:.1}%), {} IP neurons",
            self.scheme,
            self.bits,
            self.tile,
            self.tiles,
            self.cells,
            100.0 * self.utilization,
            self.neurons
        );
        let _ = writeln!(
            o,
            "- cell read currents at V_read (1-cell simulation): I_P = {}, I_AP = {}; wire R = {} Ω per cell pitch\n",
            si(self.i_p_a, "A"),
            si(self.i_ap_a, "A"),
            self.wire_r_ohm
        );
        let _ = writeln!(
            o,
            "## Accuracy (circuit-in-the-loop vs behavioural, {} samples × {} steps)\n",
            self.samples, self.steps
        );
        let _ = writeln!(o, "| measure | value |\n|---|---|");
        let _ = writeln!(
            o,
            "| class agreement | {:.1}% |",
            100.0 * self.class_agreement
        );
        let _ = writeln!(
            o,
            "| spike agreement (IP layers) | {:.2}% |",
            100.0 * self.spike_agreement
        );
        let _ = writeln!(
            o,
            "| spikes behavioural / circuit (of {} neuron-steps) | {} / {} |",
            self.neuron_steps, self.spikes_behavioural, self.spikes_circuit
        );
        let _ = writeln!(
            o,
            "| MVM outputs equal to the ideal integer product | {:.2}% (max error {} LSB) |",
            100.0 * self.mvm_exact,
            self.mvm_max_abs_err
        );
        match (self.accuracy_behavioural, self.accuracy_circuit) {
            (Some(b), Some(c)) => {
                let _ = writeln!(
                    o,
                    "| accuracy behavioural / circuit | {:.1}% / {:.1}% |",
                    100.0 * b,
                    100.0 * c
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "| accuracy vs labels | n/a: the network file has no labels |"
                );
            }
        }
        let _ = writeln!(
            o,
            "\nError budget stated for the tiles: quantization ≤ {} per weight (layer scales {}); IR drop ≤ {:.3} LSB per column (first-order bound, wire R × rows² + cols²); measured: largest analog error of any sensed slice before the ADC rounds = {:.4} LSB (< 0.5 LSB means the ADC absorbs it).\n",
            self.quant_error
                .iter()
                .map(|(e, _)| format!("{e:.4}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.quant_error
                .iter()
                .map(|(_, s)| format!("{s:.4}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.ir_drop_bound_lsb,
            self.max_analog_err_lsb
        );
        if let Some(tr) = &self.trained {
            self.trained_markdown(&mut o, tr);
        }
        if !self.mc.is_empty() {
            let _ = writeln!(
                o,
                "### Device-to-device variation (σ/μ of RA, TMR and Ku; behavioural neurons)\n"
            );
            let pct =
                |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.1}%", 100.0 * v));
            let _ = writeln!(
                o,
                "| σ | samples | class agreement | accuracy | spike agreement | exact MVM outputs |\n|---|---|---|---|---|---|"
            );
            for m in &self.mc {
                let _ = writeln!(
                    o,
                    "| {:.3} | {} | {:.1}% | {} | {} | {:.2}% |",
                    m.sigma,
                    m.samples,
                    100.0 * m.class_agreement,
                    pct(m.accuracy),
                    pct(m.spike_agreement),
                    100.0 * m.mvm_exact
                );
            }
            let _ = writeln!(
                o,
                "\nEach sample is a new chip: every cell's RA, TMR and Ku drawn with the σ of its row; class and spike agreement are against the behavioural network of the main table, accuracy against the labels. A σ = 0 row, where present, is the main run's variation-free tiles read the same way (all its samples).\n"
            );
            let _ = writeln!(o);
        }
        let _ = writeln!(o, "## Energy per inference\n");
        let _ = writeln!(
            o,
            "| part | energy | origin | operations | per operation |\n|---|---|---|---|---|"
        );
        for part in &self.energy_parts {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {:.0} | {} |",
                part.name,
                si(part.joules, "J"),
                part.origin,
                part.count,
                part.per_op_j.map_or("—".into(), |x| si(x, "J"))
            );
        }
        let _ = writeln!(
            o,
            "| **total** | **{}** | | | |",
            si(self.energy_total_j, "J")
        );
        let _ = writeln!(
            o,
            "\nSimulated parts sum to {}; the engine's ∫v·i of every source in the same runs is {} (they must agree: the report checks it).\n",
            si(self.simulated_j(), "J"),
            si(self.engine_energy_j, "J")
        );
        let _ = writeln!(
            o,
            "## Memory energy per time step: ours vs digital baselines\n"
        );
        let _ = writeln!(
            o,
            "Ours: heat + fire + reset energy of the IP neurons per step = {} (with neuron drivers and comparators: {}).\n",
            si(self.ip_memory_per_step_j, "J"),
            si(self.ip_neuron_total_per_step_j, "J")
        );
        let _ = writeln!(
            o,
            "| baseline | stored words | memory accesses / step | word energy (tier) | memory energy / step | compute / step | ours: ratio (memory) | ours: ratio (with periphery) | paper's ratio |\n|---|---|---|---|---|---|---|---|---|"
        );
        for (b, r) in self.baselines.iter().zip(&self.ratios) {
            let _ = writeln!(
                o,
                "| {} | {:.0} | {:.0} | {} ({}) | {} | {} | {:.3}× | {:.3}× | {} |",
                b.name,
                b.stored_words,
                b.memory_accesses,
                si(b.word_j, "J"),
                b.tier,
                si(b.memory_j, "J"),
                si(b.compute_j, "J"),
                r.our_ratio_memory,
                r.our_ratio_total_neuron,
                r.paper_ratio.map_or("—".into(), |x| format!("{x:.0}×"))
            );
        }
        let _ = writeln!(
            o,
            "\nWhat drives the ratio: (1) the baseline's word size ({} bits) and SRAM tier (Horowitz 45 nm: 10/20/100 pJ per 64-bit access for 8 KB/32 KB/1 MB); (2) whether the baseline's weights are counted as memory (here: yes, recurrent/temporal weights are read every step); (3) the layer sizes (I = input, H = IP-layer size: RNN/LSTM scale with H², the 2+1D CNN with k·I·H); (4) our neuron's drive current and pulse width (heat energy ∝ I²R·t). The paper's ratios compare its network sizes and its own energy model; ours compare equal layer sizes with the table above — read them as a recomputation under stated assumptions, not a confirmation.\n",
            self.energy_table.digital.word_bits
        );
        if self.trained.is_some() {
            let _ = writeln!(
                o,
                "For this trained network the rows marked *as trained* are the like-for-like comparison: they are the temporal modules of the baseline checkpoints trained with the same backbone (RNN/LSTM on the {}-wide fc1 output, 2+1D CNN with a temporal kernel of 3), whose accuracies stand next to IPNet's in docs/ipnet.md. The first three rows instead give a digital module the IP layer's own size (I = inputs, H = 1,024 neurons, kernel = steps), which puts it in DRAM and the ratios in the millions.\n",
                self.trained.as_ref().map_or(0, |t| t.hidden)
            );
        }
        let _ = writeln!(o, "## Latency\n");
        let _ = writeln!(o, "| quantity | value |\n|---|---|");
        let _ = writeln!(
            o,
            "| tile settling to 1% (max / mean over reads) | {} / {} |",
            si(self.settle_max_s, "s"),
            si(self.settle_mean_s, "s")
        );
        let _ = writeln!(
            o,
            "| compute per time step (layers × (settle + ADC) + reset + pulse + comparator) | {} |",
            si(self.step_compute_s, "s")
        );
        let _ = writeln!(
            o,
            "| time-step period (max of the above and the network step) | {} |",
            si(self.step_period_s, "s")
        );
        let _ = writeln!(
            o,
            "| inference ({} steps) | {} |\n",
            self.steps,
            si(self.inference_latency_s, "s")
        );
        let _ = writeln!(o, "## Area estimate\n");
        let _ = writeln!(
            o,
            "Cell footprint (access transistor + spacing, ≥ MTJ pitch): {:.3} µm²; arrays: {:.1} µm² ({} cells); IP neurons (2 cells each): {:.1} µm².\n",
            self.cell_area_m2 * 1e12,
            self.array_area_m2 * 1e12,
            self.cells,
            self.neuron_area_m2 * 1e12
        );
        let _ = writeln!(o, "## Figures\n");
        for f in figures {
            let _ = writeln!(o, "![{f}]({f})\n");
        }
        let _ = writeln!(o, "## Simulation runs (first sample)\n");
        let _ = writeln!(
            o,
            "| netlist | read windows | unknowns | time steps | Newton iterations | wall |\n|---|---|---|---|---|---|"
        );
        for (name, w, u, st, it, wall) in &self.tile_sims {
            let _ = writeln!(o, "| `{name}` | {w} | {u} | {st} | {it} | {wall:.2} s |");
        }
        let _ = writeln!(
            o,
            "\nIP-neuron transients: {} runs, {:.2} s in total.\n",
            self.neuron_runs, self.neuron_wall_s
        );
        let _ = writeln!(o, "## Provenance\n");
        let _ = writeln!(o, "- command: `{}`", p.command);
        let tiles = if self.trained.is_some() {
            "`tile_pixel.cir` (the first transient of distinct pixel reads)"
        } else {
            "`tile_l*_r*_c*.cir` (the first sample's read sequence)"
        };
        let _ = writeln!(
            o,
            "- tile netlists: {tiles} in this folder (rerun any with `mtjsim run`); neuron netlist: `ip_neurons_step0.cir`"
        );
        let _ = writeln!(
            o,
            "- model cards: `{}` (synapses), `{}` (neurons); seed {}",
            p.synapse_card, p.neuron_card, p.seed
        );
        let _ = writeln!(
            o,
            "- periphery and digital energies: the table in report.json (`energy_table`), sources in src/energy/mod.rs; override with `--energy-table FILE.toml`"
        );
        let _ = writeln!(
            o,
            "- every figure: made from report.json's numbers by the same command"
        );
        o
    }

    /// Self-contained HTML: the Markdown's content as HTML tables, SVGs inline.
    pub fn html(&self, md: &str, svgs: &[(String, String)]) -> String {
        let mut body = String::new();
        let mut in_table = false;
        for line in md.lines() {
            let esc = escape(line);
            if line.starts_with('|') {
                let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
                if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
                    continue;
                }
                if !in_table {
                    body.push_str("<table>\n");
                    in_table = true;
                    let _ = writeln!(
                        body,
                        "<tr>{}</tr>",
                        cells
                            .iter()
                            .map(|c| format!("<th>{}</th>", inline(c)))
                            .collect::<String>()
                    );
                    continue;
                }
                let _ = writeln!(
                    body,
                    "<tr>{}</tr>",
                    cells
                        .iter()
                        .map(|c| format!("<td>{}</td>", inline(c)))
                        .collect::<String>()
                );
                continue;
            }
            if in_table {
                body.push_str("</table>\n");
                in_table = false;
            }
            if let Some(h) = line.strip_prefix("### ") {
                let _ = writeln!(body, "<h3>{}</h3>", inline(h));
            } else if let Some(h) = line.strip_prefix("## ") {
                let _ = writeln!(body, "<h2>{}</h2>", inline(h));
            } else if let Some(h) = line.strip_prefix("# ") {
                let _ = writeln!(body, "<h1>{}</h1>", inline(h));
            } else if let Some(item) = line.strip_prefix("- ") {
                let _ = writeln!(body, "<p class=\"li\">• {}</p>", inline(item));
            } else if let Some(fig) = line.strip_prefix("![") {
                let name = fig.split(']').next().unwrap_or("");
                if let Some((_, svg)) = svgs.iter().find(|(n, _)| n == name) {
                    let _ = writeln!(
                        body,
                        "<figure>{}<figcaption>{}</figcaption></figure>",
                        strip_xml_decl(svg),
                        escape(name)
                    );
                }
            } else if !line.trim().is_empty() {
                let _ = writeln!(body, "<p>{}</p>", inline(line));
            }
            let _ = esc;
        }
        if in_table {
            body.push_str("</table>\n");
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>IPNet on MTJ hardware — mtjsim report</title>\n<style>\nbody{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}\ntable{{border-collapse:collapse;margin:1em 0}}\ntd,th{{border:1px solid #bbb;padding:3px 8px;text-align:left}}\nth{{background:#eee}}\ncode{{background:#f4f4f4;padding:0 3px}}\nfigure{{margin:1em 0}}\np.li{{margin:0.2em 0}}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
        )
    }
}

fn strip_xml_decl(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// HTML-escape text.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escape and turn `code` and **bold** spans into tags.
fn inline(s: &str) -> String {
    let e = escape(s);
    let mut out = String::new();
    for (k, part) in e.split('`').enumerate() {
        if k % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, b) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<b>{b}</b>");
                } else {
                    out.push_str(b);
                }
            }
        }
    }
    out
}
#[cfg(test)]
mod tests;
