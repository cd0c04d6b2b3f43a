//! Sparse linear algebra for MNA: a fixed sparsity pattern assembled once, and a sparse LU
//! whose symbolic analysis (fill-reducing ordering, elimination structure) is computed once
//! per topology and reused for every Newton iteration and time step.
//!
//! Devices never see the CSC layout. During setup each device asks for *stamp slots*
//! ([`PatternBuilder::slot`]); at load time it writes into its own slots of a flat buffer,
//! and [`Assembler::gather`] sums the buffer into the CSC values. Because every device owns
//! disjoint slots, loading can run in parallel without locks.

use std::ops::Range;

mod gplu;
mod lu;
mod ordering;

pub use gplu::GpLu;
pub use lu::{Factored, LinearSolver, SolveError, SparseLu};

/// Slot 0 of every stamp buffer is the trash slot: stamps that touch ground land there.
pub const TRASH: usize = 0;

/// Collects the (row, column) positions devices will stamp, in equation indices
/// (0 = ground, which is not an unknown).
#[derive(Debug, Default)]
pub struct PatternBuilder {
    /// For each matrix slot (index ≥ 1), its (row, col) equation indices.
    mat_slots: Vec<(u32, u32)>,
    /// For each right-hand-side slot (index ≥ 1), its equation index.
    rhs_slots: Vec<u32>,
}

impl PatternBuilder {
    pub fn new() -> Self {
        PatternBuilder {
            mat_slots: vec![(0, 0)],
            rhs_slots: vec![0],
        }
    }

    /// A matrix slot for entry (row, col); [`TRASH`] if either is ground.
    pub fn slot(&mut self, row: usize, col: usize) -> usize {
        if row == 0 || col == 0 {
            return TRASH;
        }
        self.mat_slots.push((row as u32, col as u32));
        self.mat_slots.len() - 1
    }

    /// A right-hand-side slot for equation `row`; [`TRASH`] for ground.
    pub fn rhs_slot(&mut self, row: usize) -> usize {
        if row == 0 {
            return TRASH;
        }
        self.rhs_slots.push(row as u32);
        self.rhs_slots.len() - 1
    }

    pub fn mat_slot_count(&self) -> usize {
        self.mat_slots.len()
    }
    pub fn rhs_slot_count(&self) -> usize {
        self.rhs_slots.len()
    }

    /// Build the CSC pattern for `n_eq` equations (ground included, so the matrix is
    /// `(n_eq-1)²`). The diagonal is always present so gmin can be added anywhere.
    pub fn finish(self, n_eq: usize) -> Assembler {
        let n = n_eq.saturating_sub(1);
        let mut entries: Vec<(u32, u32)> = self
            .mat_slots
            .iter()
            .skip(1)
            .map(|&(r, c)| (c - 1, r - 1))
            .chain((0..n as u32).map(|i| (i, i)))
            .collect();
        entries.sort_unstable();
        entries.dedup();
        let mut col_ptr = vec![0usize; n + 1];
        let mut row_idx = Vec::with_capacity(entries.len());
        for &(c, r) in &entries {
            col_ptr[c as usize + 1] += 1;
            row_idx.push(r as usize);
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        let position = |r: u32, c: u32| -> u32 {
            let (c, r) = (c as usize - 1, r as usize - 1);
            let col = &row_idx[col_ptr[c]..col_ptr[c + 1]];
            (col_ptr[c] + col.binary_search(&r).expect("entry is in pattern")) as u32
        };
        let mat_map: Vec<u32> = self
            .mat_slots
            .iter()
            .map(|&(r, c)| if r == 0 { u32::MAX } else { position(r, c) })
            .collect();
        let diag: Vec<u32> = (1..=n as u32).map(|i| position(i, i)).collect();
        Assembler {
            n,
            col_ptr,
            row_idx,
            mat_map,
            rhs_map: self.rhs_slots,
            diag,
        }
    }
}

/// Work of adding one stamp slot in a gather, in units of copying one entry.
const SLOT_WEIGHT: usize = 3;

/// The gather's sums recomputed for a few entries only ([`Assembler::pull_plan`]): when
/// most devices kept their stamps since the last assembly at the same time point, only the
/// entries that an evaluated device stamps can have moved. Each is rebuilt from the linear
/// part plus all its slots in ascending slot order, which is the order the gather adds them
/// in, so the result equals a full gather bit for bit.
#[derive(Debug, Clone, Default)]
pub struct Pull {
    /// Matrix positions and rhs rows.
    pos: PullSide,
    row: PullSide,
    /// The matrix positions the last [`Pull::apply`] rebuilt.
    pos_rebuilt: Vec<u32>,
}

/// One kind of entry (matrix positions or rhs rows) of a [`Pull`].
#[derive(Debug, Clone, Default)]
struct PullSide {
    /// Per entry, its slots (ascending), in CSR form.
    ptr: Vec<u32>,
    slots: Vec<u32>,
    /// Entries marked since the last rebuild, and their marks.
    touched: Vec<u32>,
    mark: Vec<bool>,
}

impl PullSide {
    /// `entries` (entry, slot) in ascending slot order, for `len` entries.
    fn new(len: usize, entries: impl Iterator<Item = (usize, u32)> + Clone) -> PullSide {
        let mut ptr = vec![0u32; len + 1];
        for (at, _) in entries.clone() {
            ptr[at + 1] += 1;
        }
        for i in 0..len {
            ptr[i + 1] += ptr[i];
        }
        let mut fill: Vec<u32> = ptr[..len].to_vec();
        let mut slots = vec![0u32; ptr[len] as usize];
        // Slots come in ascending order, so each entry's list is ascending.
        for (at, slot) in entries {
            slots[fill[at] as usize] = slot;
            fill[at] += 1;
        }
        PullSide {
            ptr,
            slots,
            touched: Vec::new(),
            mark: vec![false; len],
        }
    }

    fn touch(&mut self, entry: u32) {
        let mark = &mut self.mark[entry as usize];
        if !*mark {
            *mark = true;
            self.touched.push(entry);
        }
    }

    /// Rebuild the touched entries of `out` as `base` plus their slots of `bufs` (slots
    /// below `split` from the first), clear the marks, and leave the rebuilt entries in
    /// `self.touched`.
    fn rebuild(&mut self, base: &[f64], bufs: [&[f64]; 2], split: usize, out: &mut [f64]) {
        for &entry in &self.touched {
            let e = entry as usize;
            self.mark[e] = false;
            let mut v = base[e];
            for &s in &self.slots[self.ptr[e] as usize..self.ptr[e + 1] as usize] {
                let s = s as usize;
                v += bufs[usize::from(s >= split)][s];
            }
            out[e] = v;
        }
    }
}

impl Pull {
    /// The matrix positions the last [`Pull::apply`] rebuilt: the only ones whose values
    /// can differ from those before it.
    pub fn rebuilt_positions(&self) -> &[u32] {
        &self.pos_rebuilt
    }

    /// Mark the entries that the matrix slots `mat` and rhs slots `rhs` stamp.
    pub fn touch(&mut self, asm: &Assembler, mat: Range<usize>, rhs: Range<usize>) {
        for &pos in &asm.mat_map[mat] {
            self.pos.touch(pos);
        }
        // Ground rows (eq 0) are dropped, as in the gather.
        for &eq in asm.rhs_map[rhs].iter().filter(|&&eq| eq != 0) {
            self.row.touch(eq - 1);
        }
    }

    /// Rebuild the marked entries from the linear part (`base`: values, rhs) and the stamp
    /// buffers (slots below `split` from the first pair, as in [`Assembler::gather_onto`]),
    /// and clear the marks.
    pub fn apply(
        &mut self,
        mat_buf: [&[f64]; 2],
        rhs_buf: [&[f64]; 2],
        split: (usize, usize),
        base: (&[f64], &[f64]),
        values: &mut [f64],
        rhs: &mut [f64],
    ) {
        self.pos.rebuild(base.0, mat_buf, split.0, values);
        self.row.rebuild(base.1, rhs_buf, split.1, rhs);
        std::mem::swap(&mut self.pos.touched, &mut self.pos_rebuilt);
        self.pos.touched.clear();
        self.row.touched.clear();
    }
}

/// A gather split by position between two threads ([`Assembler::gather_halves`]): for
/// thread `t` and buffer pair `b`, the (slot, position within the thread's half) pairs.
#[derive(Debug, Clone, Default)]
pub struct GatherHalves {
    mat: [[Vec<(u32, u32)>; 2]; 2],
    rhs: [[Vec<(u32, u32)>; 2]; 2],
    /// First value and first rhs entry of the second thread's half.
    pub split: (usize, usize),
}

impl GatherHalves {
    /// Thread `t`'s part: add its slots of both buffer pairs onto its half of the values
    /// and of the rhs.
    pub fn gather(
        &self,
        t: usize,
        mat_buf: [&[f64]; 2],
        rhs_buf: [&[f64]; 2],
        values: &mut [f64],
        rhs: &mut [f64],
    ) {
        for b in 0..2 {
            let buf = mat_buf[b];
            for &(slot, pos) in &self.mat[t][b] {
                values[pos as usize] += buf[slot as usize];
            }
            let buf = rhs_buf[b];
            for &(slot, eq) in &self.rhs[t][b] {
                rhs[eq as usize] += buf[slot as usize];
            }
        }
    }
}

/// The fixed CSC pattern and the slot → value maps.
#[derive(Debug, Clone)]
/// The matrix pattern by rows (columns ascending), with each entry's position in the CSC
/// values: rows of the residual can then be computed apart, by two threads, each row with
/// the operations of [`Assembler::residual_into`] in the same order.
pub struct RowPattern {
    ptr: Vec<u32>,
    col: Vec<u32>,
    pos: Vec<u32>,
}

impl RowPattern {
    /// [`Assembler::residual_into`] for the rows `rows` only (`out` holds just those),
    /// bit for bit.
    pub fn residual_rows(
        &self,
        rows: Range<usize>,
        values: &[f64],
        x: &[f64],
        rhs: &[f64],
        out: &mut [f64],
    ) {
        assert_eq!(out.len(), rows.len());
        for (o, r) in out.iter_mut().zip(rows) {
            let mut v = rhs[r];
            let span = self.ptr[r] as usize..self.ptr[r + 1] as usize;
            for (&c, &p) in self.col[span.clone()].iter().zip(&self.pos[span]) {
                let xc = x[c as usize];
                // The column loop skips zero unknowns; so does this one (a skipped −0.0
                // product, or a NaN from an infinite entry, would change the bits).
                if xc != 0.0 {
                    v -= values[p as usize] * xc;
                }
            }
            *o = v;
        }
    }
}

pub struct Assembler {
    /// Number of unknowns (equations minus ground).
    pub n: usize,
    pub col_ptr: Vec<usize>,
    pub row_idx: Vec<usize>,
    mat_map: Vec<u32>,
    rhs_map: Vec<u32>,
    diag: Vec<u32>,
}

impl Assembler {
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }
    pub fn mat_slots(&self) -> usize {
        self.mat_map.len()
    }
    pub fn rhs_slots(&self) -> usize {
        self.rhs_map.len()
    }

    /// CSC position of the entry (row, col), in equation indices (0 = ground: `None`).
    pub fn position(&self, row: usize, col: usize) -> Option<usize> {
        if row == 0 || col == 0 || row > self.n || col > self.n {
            return None;
        }
        let (r, c) = (row - 1, col - 1);
        let column = &self.row_idx[self.col_ptr[c]..self.col_ptr[c + 1]];
        column.binary_search(&r).ok().map(|k| self.col_ptr[c] + k)
    }

    /// The residual `out = rhs − A·x` of the assembled system (`values` in CSC order).
    pub fn residual_into(&self, values: &[f64], x: &[f64], rhs: &[f64], out: &mut [f64]) {
        out.copy_from_slice(rhs);
        for (c, &xc) in x.iter().enumerate().take(self.n) {
            if xc != 0.0 {
                let col = self.col_ptr[c]..self.col_ptr[c + 1];
                for (&r, &a) in self.row_idx[col.clone()].iter().zip(&values[col]) {
                    out[r] -= a * xc;
                }
            }
        }
    }

    /// The pattern by rows (the graph edges i → j of the block triangular ordering, and
    /// [`RowPattern::residual_rows`]).
    pub fn row_pattern(&self) -> RowPattern {
        let n = self.n;
        assert!(
            self.row_idx.len() <= u32::MAX as usize,
            "32-bit row pattern"
        );
        let mut ptr = vec![0u32; n + 1];
        for &r in &self.row_idx {
            ptr[r + 1] += 1;
        }
        for r in 0..n {
            ptr[r + 1] += ptr[r];
        }
        let mut fill: Vec<u32> = ptr[..n].to_vec();
        let mut col = vec![0u32; self.row_idx.len()];
        let mut pos = vec![0u32; self.row_idx.len()];
        // Columns in ascending order within each row: the order in which
        // [`Assembler::residual_into`] subtracts a row's terms.
        for c in 0..n {
            for k in self.col_ptr[c]..self.col_ptr[c + 1] {
                let r = self.row_idx[k];
                let at = fill[r] as usize;
                col[at] = c as u32;
                pos[at] = k as u32;
                fill[r] += 1;
            }
        }
        RowPattern { ptr, col, pos }
    }

    /// Sum stamp buffers into CSC `values` (len nnz) and `rhs` (len n, unknown order).
    pub fn gather(&self, mat_buf: &[f64], rhs_buf: &[f64], values: &mut [f64], rhs: &mut [f64]) {
        let (m, r) = (self.mat_map.len(), self.rhs_map.len());
        values.fill(0.0);
        rhs.fill(0.0);
        self.gather_onto(
            [mat_buf, mat_buf],
            [rhs_buf, rhs_buf],
            (1, 1),
            (m, r),
            values,
            rhs,
        );
    }

    /// Add the stamp slots from `from` (matrix, rhs) on to `values` and `rhs`, which already
    /// hold the bulk linear part. With two buffer pairs (parallel device loading) matrix
    /// slots below `split.0` and rhs slots below `split.1` come from the first pair, the
    /// rest from the second. Slots are summed in the same order either way, so results are
    /// identical.
    pub fn gather_onto(
        &self,
        mat_buf: [&[f64]; 2],
        rhs_buf: [&[f64]; 2],
        from: (usize, usize),
        split: (usize, usize),
        values: &mut [f64],
        rhs: &mut [f64],
    ) {
        let (mat_ranges, _) = self.slot_ranges(from, split);
        for (b, range) in mat_ranges.into_iter().enumerate() {
            for (&pos, &v) in self.mat_map[range.clone()].iter().zip(&mat_buf[b][range]) {
                values[pos as usize] += v;
            }
        }
        self.gather_rhs_onto(rhs_buf, from.1, split.1, rhs);
    }

    /// The rhs part of [`Assembler::gather_onto`] alone, onto `rhs` (which holds the bulk
    /// linear part's rhs).
    pub fn gather_rhs_onto(
        &self,
        rhs_buf: [&[f64]; 2],
        from: usize,
        split: usize,
        rhs: &mut [f64],
    ) {
        let (_, rhs_ranges) =
            self.slot_ranges((self.mat_map.len(), from), (self.mat_map.len(), split));
        for (b, range) in rhs_ranges.into_iter().enumerate() {
            for (&eq, &v) in self.rhs_map[range.clone()].iter().zip(&rhs_buf[b][range]) {
                rhs[eq as usize - 1] += v;
            }
        }
    }

    /// The matrix and rhs slot ranges [`Assembler::gather_onto`] takes from each buffer pair:
    /// slots from `from`, the first pair's below `split`.
    fn slot_ranges(
        &self,
        from: (usize, usize),
        split: (usize, usize),
    ) -> ([Range<usize>; 2], [Range<usize>; 2]) {
        let (m, r) = (self.mat_map.len(), self.rhs_map.len());
        let (m0, r0) = (from.0.clamp(1, m), from.1.clamp(1, r));
        let (ms, rs) = (split.0.clamp(m0, m), split.1.clamp(r0, r));
        ([m0..ms, ms..m], [r0..rs, rs..r])
    }

    /// [`Pull`] for the slots from `from` (matrix, rhs) on: the slots of each matrix position
    /// and rhs row, in the gather's order.
    pub fn pull_plan(&self, from: (usize, usize)) -> Pull {
        let (m, r) = (self.mat_map.len(), self.rhs_map.len());
        let (m0, r0) = (from.0.clamp(1, m), from.1.clamp(1, r));
        let mat = (m0..m).map(|s| (self.mat_map[s] as usize, s as u32));
        let rhs = (r0..r)
            .filter(|&s| self.rhs_map[s] != 0)
            .map(|s| (self.rhs_map[s] as usize - 1, s as u32));
        Pull {
            pos: PullSide::new(self.nnz(), mat),
            row: PullSide::new(self.n, rhs),
            pos_rebuilt: Vec::new(),
        }
    }

    /// [`Assembler::gather_onto`] planned for two threads: each takes the slots (of both
    /// buffer pairs, in slot order) whose value or rhs position falls in its half; the
    /// halves split the values and the rhs where the work (copy and slots) does. Each position is summed by one
    /// thread in the same order as the serial gather, so results are identical.
    pub fn gather_halves(&self, from: (usize, usize), split: (usize, usize)) -> GatherHalves {
        let (mat_ranges, rhs_ranges) = self.slot_ranges(from, split);
        // Each thread copies its half of the linear part (one unit per entry) and adds its
        // slots (a few units each: a slot read, an entry read and written): the halves split
        // where the summed work does.
        let balanced = |len: usize, slots: &mut dyn Iterator<Item = usize>| {
            let mut weight = vec![1usize; len];
            for p in slots {
                weight[p] += SLOT_WEIGHT;
            }
            let total: usize = weight.iter().sum();
            let mut acc = 0;
            weight
                .iter()
                .position(|&w| {
                    acc += w;
                    2 * acc >= total
                })
                .map_or(len / 2, |p| p + 1)
        };
        let vh = balanced(
            self.nnz(),
            &mut mat_ranges
                .iter()
                .flat_map(|r| r.clone())
                .map(|slot| self.mat_map[slot] as usize),
        );
        let rh = balanced(
            self.n,
            &mut rhs_ranges
                .iter()
                .flat_map(|r| r.clone())
                .map(|slot| self.rhs_map[slot] as usize - 1),
        );
        let mut plan = GatherHalves {
            split: (vh, rh),
            ..Default::default()
        };
        for (b, range) in mat_ranges.into_iter().enumerate() {
            for slot in range {
                let pos = self.mat_map[slot] as usize;
                let t = usize::from(pos >= vh);
                plan.mat[t][b].push((slot as u32, (pos - t * vh) as u32));
            }
        }
        for (b, range) in rhs_ranges.into_iter().enumerate() {
            for slot in range {
                let eq = self.rhs_map[slot] as usize - 1;
                let t = usize::from(eq >= rh);
                plan.rhs[t][b].push((slot as u32, (eq - t * rh) as u32));
            }
        }
        plan
    }

    /// Add `g` to every diagonal entry (gmin stepping, diagonal regularisation).
    pub fn add_diagonal(&self, values: &mut [f64], g: f64) {
        for &d in &self.diag {
            values[d as usize] += g;
        }
    }

    /// Add `g` to the diagonal entries of the given unknowns (0-based unknown indices).
    pub fn add_diagonal_at(&self, values: &mut [f64], unknowns: &[usize], g: f64) {
        for &u in unknowns {
            values[self.diag[u] as usize] += g;
        }
    }

    /// Residual `b − A·x` (for diagnostics), with `x` and `b` in unknown order.
    pub fn residual(&self, values: &[f64], x: &[f64], b: &[f64]) -> Vec<f64> {
        let mut r = vec![0.0; b.len()];
        self.residual_into(values, x, b, &mut r);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The residual by rows, in any split, gives the column sweep's bits: entries of mixed
    /// magnitude and sign (so that another summation order within a row changes the last
    /// bits), unknowns that are zero or negative zero, and a right-hand side with a
    /// negative zero.
    #[test]
    fn residual_by_rows_is_bit_identical_to_the_column_sweep() {
        let n = 50;
        let mut seed = 99u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1_000_003) as f64 / 1_000_003.0
        };
        let mut pb = PatternBuilder::new();
        let mut entries = Vec::new();
        for i in 1..=n {
            entries.push((i, i));
            for _ in 0..5 {
                let j = 1 + (rnd() * n as f64) as usize % n;
                entries.push((i, j));
            }
        }
        for &(r, c) in &entries {
            pb.slot(r, c);
        }
        let asm = pb.finish(n + 1);
        let values: Vec<f64> = (0..asm.nnz())
            .map(|k| (rnd() - 0.5) * 10f64.powi((k % 7) as i32 - 3))
            .collect();
        let x: Vec<f64> = (0..n)
            .map(|i| match i % 9 {
                0 => 0.0,
                4 => -0.0,
                _ => (rnd() - 0.5) * 1e3,
            })
            .collect();
        let mut rhs: Vec<f64> = (0..n).map(|_| rnd() - 0.5).collect();
        rhs[3] = -0.0;
        let mut serial = vec![0.0; n];
        asm.residual_into(&values, &x, &rhs, &mut serial);
        let rows = asm.row_pattern();
        for mid in [0, 1, 17, n / 2, n] {
            let mut split = vec![0.0; n];
            let (a, b) = split.split_at_mut(mid);
            rows.residual_rows(0..mid, &values, &x, &rhs, a);
            rows.residual_rows(mid..n, &values, &x, &rhs, b);
            for (s, p) in serial.iter().zip(&split) {
                assert_eq!(s.to_bits(), p.to_bits(), "split at {mid}");
            }
        }
    }
}
