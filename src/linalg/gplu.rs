//! Left-looking sparse LU (Gilbert–Peierls) specialised for circuit matrices, in the spirit
//! of KLU: AMD ordering on the pattern of A + Aᵀ (circuit matrices are nearly structurally
//! symmetric), threshold partial pivoting that prefers the diagonal, and — the point —
//! *refactorization*: after the first factorization the pivot sequence and the patterns of
//! L and U are kept, so every later Newton iteration only redoes the arithmetic, with no
//! graph search. A pivot that becomes too small triggers a full factorization with pivoting.
//!
//! Notation: B = P·A·Pᵀ is A symmetrically permuted by the AMD order; we factor
//! Q·B = L·U where Q is the row permutation chosen by pivoting (`prow[k]` is the B-row
//! pivoted at step k). L has a unit diagonal (not stored); U's diagonal is kept apart.

use std::sync::Arc;

use super::ordering::btf_order;
use super::{Assembler, Factored, LinearSolver, SolveError};
use crate::spin_pair::SpinPair;

/// Prefer the diagonal as pivot unless it is smaller than this fraction of the column's
/// largest candidate (KLU's default).
const DIAG_PREFERENCE: f64 = 1e-3;
/// In refactorization, a pivot below this fraction of its column's magnitude sends us back
/// to a full factorization with pivoting.
const REFACTOR_PIVOT_TOL: f64 = 1e-10;
const NONE: usize = usize::MAX;
/// Row and position indices of the stored patterns: half the bytes of `usize`, and the
/// refactorization and solves stream these arrays from memory at every Newton iteration.
type Idx = u32;
/// Change detection: an entry of B that moved by at most this fraction of the value it had
/// when its column was last computed counts as unchanged. Newton then solves with a matrix
/// off by at most this much per entry, and its fixed point is off by that times the entry's
/// current (below 1e-13 of the currents at each node, ten orders under RELTOL); what it buys
/// is that last-bit noise (an off transistor's 1e-17 S junction conductance summed onto a
/// 1 S wire diagonal) no longer forces a column and every column after it to be recomputed.
const REUSE_RTOL: f64 = 1e-13;

/// Whether `now` moved from `then` by more than [`REUSE_RTOL`] (always, if either is NaN).
/// Written so that a NaN on either side fails the comparison.
#[inline]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn moved(now: f64, then: f64) -> bool {
    !((now - then).abs() <= REUSE_RTOL * then.abs())
}

/// Whether any entry of a B column moved (see [`moved`]): `src` are the entries' positions in
/// `values`, `prev` their values at the column's last computation. Every entry is looked at
/// anyway in the common unchanged case: a fold without early exit has no data-dependent branch.
#[inline]
fn column_moved(values: &[f64], src: &[Idx], prev: &[f64]) -> bool {
    src.iter()
        .zip(prev)
        .fold(false, |c, (&s, &p)| c | moved(values[s as usize], p))
}

/// Outcome of a refactorization.
enum Refactor {
    Done,
    /// The values equal those of the last factorization: nothing was recomputed.
    Unchanged,
    /// A pivot became unacceptably small: a full factorization with pivoting is needed.
    PivotTooSmall,
}

/// Sparse LU with pivot-sequence reuse.
pub struct GpLu {
    n: usize,
    /// `perm[i]` = original index of B's row/column i; `pinv_amd` its inverse.
    perm: Vec<usize>,
    /// For each B index, the end (exclusive) of its diagonal block in the block lower
    /// triangular form: pivots of column k are chosen among rows `< blk_end[k]` only, so
    /// the blocks stay decoupled (no fill between independent crossbar columns).
    blk_end: Vec<usize>,
    /// B in CSC: column pointers, rows (B numbering), and for each entry the position of its
    /// value in the caller's (A's) values array.
    b_col_ptr: Vec<usize>,
    b_row: Vec<Idx>,
    b_src: Vec<Idx>,
    /// Per position of A's values, the B column holding it.
    a_col: Vec<Idx>,
    /// Every column's `b_prev` matched, to within the change tolerance, the values of the
    /// last call (which factored or found nothing changed; false after factors were kept
    /// for a chord step or a failure): a column none of whose entries moved since that call
    /// has not moved now either.
    prev_matches_last: bool,
    /// Scratch of [`GpLu::classify_only`].
    touched_columns: Vec<Idx>,
    /// L (strictly lower, B row numbering) and U (strictly upper, step numbering) in CSC.
    l_ptr: Vec<usize>,
    l_row: Vec<Idx>,
    l_val: Vec<f64>,
    u_ptr: Vec<usize>,
    u_row: Vec<Idx>,
    u_val: Vec<f64>,
    u_diag: Vec<f64>,
    /// Row pivoted at step k, and its inverse (B row → step, or NONE).
    prow: Vec<usize>,
    pinv: Vec<usize>,
    have_pattern: bool,
    /// `prow[u_row[p]]`: the work-vector row of each U entry (saves an indirection).
    u_xrow: Vec<Idx>,
    /// B's values (in B's CSC order) at the last successful factorization, and per B
    /// column whether the last refactorization recomputed it: partial refactorization redoes
    /// only the columns whose entries changed and the columns that depend on them through U
    /// (a Newton iteration inside one time step may change only the stamps of the few
    /// transistors that are on).
    b_prev: Vec<f64>,
    dirty: Vec<bool>,
    /// Position in B's entries of each column's diagonal (the pattern always has it).
    b_diag: Vec<Idx>,
    /// Per B column, whether an entry moved since its last computation: found by
    /// [`GpLu::factor_unless_close`]'s first pass and handed to the refactorization.
    changed: Vec<bool>,
    /// Dense work vectors.
    x: Vec<f64>,
    mark: Vec<usize>,
    stack: Vec<usize>,
    child_pos: Vec<usize>,
    topo: Vec<usize>,
    /// Solve scratch: the permuted right-hand side and the step-indexed solution.
    solve_work: Vec<f64>,
    solve_y: Vec<f64>,
    /// Two-thread split of the columns (None: serial), set after each full factorization,
    /// and the second thread's refactorization work vector.
    two_way: Option<TwoWay>,
    x_second: Vec<f64>,
    /// Every block start but the first: where a two-way split may fall.
    block_starts: Vec<usize>,
    /// Per B column, the first column of its block.
    block_start: Vec<usize>,
    /// Per step k, the largest of its pivot row and its L rows (found by
    /// [`GpLu::check_patterns`]; the forward substitution checks its bound per column).
    row_max: Vec<usize>,
    /// Length of A's values array (every B position is below it).
    a_nnz: usize,
    /// Whether the patterns passed [`GpLu::check_patterns`] since they were last made.
    checked: bool,
    /// The helper thread for two-way work (None: everything on the caller's thread).
    pair: Option<Arc<SpinPair>>,
    /// Numeric factorizations kept for other matrix families (see
    /// [`LinearSolver::select_family`]), all with the present patterns and pivot sequence;
    /// the family of the factors in hand; how many slots the memory budget allows (0: not
    /// yet computed); a use counter for least-recently-used eviction.
    families: Vec<FamilySlot>,
    family: u64,
    family_capacity: usize,
    family_clock: u64,
    /// Family switches that found the family's own factors kept.
    pub family_hits: usize,
    /// Counters: full factorizations and refactorizations.
    pub full_factorizations: usize,
    pub refactorizations: usize,
    /// Columns recomputed by refactorizations (out of `refactorizations · n`).
    pub refactored_columns: usize,
}

impl GpLu {
    /// Order the pattern (AMD on A + Aᵀ) and set up the permuted matrix.
    pub fn new(asm: &Assembler) -> Result<Self, SolveError> {
        let n = asm.n;
        if n.max(asm.nnz()) > Idx::MAX as usize {
            return Err(SolveError::Backend(format!(
                "{n} unknowns and {} matrix entries exceed the solver's 32-bit indices",
                asm.nnz()
            )));
        }
        let (perm, blk_end) = btf_order(asm)?;
        let mut block_start = vec![0usize; n];
        for k in 1..n {
            block_start[k] = if blk_end[k - 1] == k {
                k
            } else {
                block_start[k - 1]
            };
        }
        let block_starts = (1..n).filter(|&k| block_start[k] == k).collect();
        let mut perm_inv = vec![0usize; n];
        for (i, &p) in perm.iter().enumerate() {
            perm_inv[p] = i;
        }
        // Build B = P A Pᵀ column by column: B[:, j] = A[perm[i], perm[j]].
        let mut b_col_ptr = vec![0usize; n + 1];
        let mut b_row = Vec::with_capacity(asm.nnz());
        let mut b_src = Vec::with_capacity(asm.nnz());
        for j in 0..n {
            let c = perm[j];
            let mut entries: Vec<(usize, usize)> = (asm.col_ptr[c]..asm.col_ptr[c + 1])
                .map(|k| (perm_inv[asm.row_idx[k]], k))
                .collect();
            entries.sort_unstable();
            for (r, k) in entries {
                b_row.push(r as Idx);
                b_src.push(k as Idx);
            }
            b_col_ptr[j + 1] = b_row.len();
        }
        let mut a_col = vec![0 as Idx; asm.nnz()];
        for j in 0..n {
            for &src in &b_src[b_col_ptr[j]..b_col_ptr[j + 1]] {
                a_col[src as usize] = j as Idx;
            }
        }
        let b_diag = (0..n)
            .map(|j| {
                let col = &b_row[b_col_ptr[j]..b_col_ptr[j + 1]];
                let k = col
                    .binary_search(&(j as Idx))
                    .expect("the assembled pattern holds every diagonal entry");
                (b_col_ptr[j] + k) as Idx
            })
            .collect();
        Ok(GpLu {
            n,
            perm,
            blk_end,
            b_col_ptr,
            b_row,
            b_src,
            a_col,
            prev_matches_last: false,
            touched_columns: Vec::new(),
            l_ptr: vec![0; n + 1],
            l_row: Vec::new(),
            l_val: Vec::new(),
            u_ptr: vec![0; n + 1],
            u_row: Vec::new(),
            u_val: Vec::new(),
            u_diag: vec![0.0; n],
            prow: vec![NONE; n],
            pinv: vec![NONE; n],
            have_pattern: false,
            u_xrow: Vec::new(),
            b_prev: Vec::new(),
            dirty: vec![true; n],
            b_diag,
            changed: vec![false; n],
            x: vec![0.0; n],
            mark: vec![NONE; n],
            stack: Vec::with_capacity(n),
            child_pos: vec![0; n],
            topo: Vec::with_capacity(n),
            solve_work: vec![0.0; n],
            solve_y: vec![0.0; n],
            two_way: None,
            x_second: Vec::new(),
            block_starts,
            block_start,
            a_nnz: asm.nnz(),
            row_max: vec![0; n],
            checked: false,
            pair: None,
            families: Vec::new(),
            family: NO_FAMILY,
            family_capacity: 0,
            family_clock: 0,
            family_hits: 0,
            full_factorizations: 0,
            refactorizations: 0,
            refactored_columns: 0,
        })
    }

    /// Lets refactorization and solves run in two halves on `pair`'s two threads when the
    /// matrix splits evenly (see [`GpLu::plan_two_way`]); bit-identical results either way.
    pub fn set_pair(&mut self, pair: Option<Arc<SpinPair>>) {
        self.pair = pair;
        if self.have_pattern {
            self.two_way = self.plan_two_way();
        }
    }

    /// Full factorization with threshold partial pivoting; records the patterns.
    fn factor_full(&mut self, values: &[f64]) -> Result<(), SolveError> {
        let n = self.n;
        self.full_factorizations += 1;
        self.checked = false;
        // Kept factors follow the old pivot sequence and patterns.
        self.families.clear();
        self.family_capacity = 0;
        self.l_row.clear();
        self.l_val.clear();
        self.u_row.clear();
        self.u_val.clear();
        self.prow.fill(NONE);
        self.pinv.fill(NONE);
        self.mark.fill(NONE);
        for k in 0..n {
            // Scatter B[:, k] and find the columns of L that update it, in topological order.
            self.topo.clear();
            for p in self.b_col_ptr[k]..self.b_col_ptr[k + 1] {
                let r = self.b_row[p] as usize;
                self.x[r] = values[self.b_src[p] as usize];
            }
            for p in self.b_col_ptr[k]..self.b_col_ptr[k + 1] {
                let r = self.b_row[p] as usize;
                if self.mark[r] != k {
                    self.dfs(r, k);
                }
            }
            // `topo` holds reached rows in reverse topological order (post-order).
            // Numeric update in topological order (reverse of post-order).
            for t in (0..self.topo.len()).rev() {
                let r = self.topo[t];
                let j = self.pinv[r];
                if j == NONE {
                    continue;
                }
                let xj = self.x[r];
                self.u_row.push(j as Idx);
                self.u_val.push(xj);
                for p in self.l_ptr[j]..self.l_ptr[j + 1] {
                    self.x[self.l_row[p] as usize] -= self.l_val[p] * xj;
                }
            }
            self.u_ptr[k + 1] = self.u_row.len();
            // Choose the pivot among rows not yet pivotal: the diagonal (row k of B) when it
            // is within DIAG_PREFERENCE of the largest candidate.
            let mut best = NONE;
            let mut best_abs = 0.0f64;
            let blk_end = self.blk_end[k];
            for &r in &self.topo {
                if self.pinv[r] == NONE && r < blk_end {
                    let a = self.x[r].abs();
                    if a > best_abs {
                        best_abs = a;
                        best = r;
                    }
                }
            }
            if best == NONE || best_abs == 0.0 || !best_abs.is_finite() {
                for &r in &self.topo {
                    self.x[r] = 0.0;
                }
                self.have_pattern = false;
                return Err(SolveError::Singular);
            }
            let pivot_row = if self.pinv[k] == NONE
                && self.mark[k] == k
                && self.x[k].abs() >= DIAG_PREFERENCE * best_abs
            {
                k
            } else {
                best
            };
            let pivot = self.x[pivot_row];
            self.u_diag[k] = pivot;
            self.prow[k] = pivot_row;
            self.pinv[pivot_row] = k;
            for &r in &self.topo {
                if self.pinv[r] == NONE {
                    self.l_row.push(r as Idx);
                    self.l_val.push(self.x[r] / pivot);
                }
            }
            self.l_ptr[k + 1] = self.l_row.len();
            for &r in &self.topo {
                self.x[r] = 0.0;
            }
        }
        self.have_pattern = true;
        self.u_xrow.clear();
        self.u_xrow
            .extend(self.u_row.iter().map(|&j| self.prow[j as usize] as Idx));
        self.b_prev.clear();
        self.b_prev
            .extend(self.b_src.iter().map(|&src| values[src as usize]));
        self.check_patterns();
        self.two_way = self.plan_two_way();
        if self.two_way.is_some() && self.x_second.len() != n {
            self.x_second = vec![0.0; n];
        }
        Ok(())
    }

    /// Checks every index the unchecked kernels (refactorization, forward and back
    /// substitution) read, once per full factorization, O(nnz), and records each step's
    /// largest row for the forward substitution; a failure is a bug in this module, so it
    /// panics.
    fn check_patterns(&mut self) {
        let n = self.n;
        let monotone = |ptr: &[usize], len: usize| {
            ptr.len() == n + 1
                && ptr[0] == 0
                && ptr.windows(2).all(|w| w[0] <= w[1])
                && ptr[n] == len
        };
        assert!(monotone(&self.b_col_ptr, self.b_row.len()));
        assert!(monotone(&self.l_ptr, self.l_row.len()) && self.l_val.len() == self.l_row.len());
        assert!(monotone(&self.u_ptr, self.u_row.len()) && self.u_val.len() == self.u_row.len());
        assert!(self.u_xrow.len() == self.u_row.len() && self.b_src.len() == self.b_row.len());
        assert!(self.b_prev.len() == self.b_row.len());
        assert!(self.prow.len() == n && self.prow.iter().all(|&r| r < n));
        assert!(self.dirty.len() == n && self.u_diag.len() == n && self.x.len() == n);
        let rows_ok = |rows: &[Idx]| rows.iter().all(|&r| (r as usize) < n);
        assert!(rows_ok(&self.b_row) && rows_ok(&self.l_row) && rows_ok(&self.u_xrow));
        assert!(self.b_src.iter().all(|&s| (s as usize) < self.a_nnz));
        for k in 0..n {
            let start = self.block_start[k];
            assert!(
                self.u_row[self.u_ptr[k]..self.u_ptr[k + 1]]
                    .iter()
                    .all(|&j| (j as usize) < k && j as usize >= start)
            );
            let l_rows = &self.l_row[self.l_ptr[k]..self.l_ptr[k + 1]];
            assert!(self.prow[k] >= start && l_rows.iter().all(|&r| r as usize >= start));
            self.row_max[k] = l_rows
                .iter()
                .map(|&r| r as usize)
                .fold(self.prow[k], usize::max);
        }
        self.checked = true;
    }

    /// Splits the columns between two threads at a block boundary. U has no entries between
    /// blocks (B is block lower triangular and pivots stay inside blocks), so the columns of
    /// different blocks refactor independently and back-substitute independently; forward
    /// substitution runs serially only over the leading columns whose L reaches past the
    /// split (in a crossbar: the word lines, which drive every ladder).
    fn plan_two_way(&self) -> Option<TwoWay> {
        let n = self.n;
        if n < PARALLEL_MIN_UNKNOWNS || self.pair.is_none() {
            return None;
        }
        let l_len = |j: usize| self.l_ptr[j + 1] - self.l_ptr[j];
        // Work of a column's refactorization: the L columns that update it, plus its own.
        let weight = |k: usize| -> usize {
            let updates: usize = self.u_row[self.u_ptr[k]..self.u_ptr[k + 1]]
                .iter()
                .map(|&j| l_len(j as usize))
                .sum();
            1 + l_len(k) + updates
        };
        let mut prefix = vec![0usize; n + 1];
        for k in 0..n {
            prefix[k + 1] = prefix[k] + weight(k);
        }
        let total = prefix[n];
        let best = self
            .block_starts
            .iter()
            .map(|&k| (prefix[k].abs_diff(total - prefix[k]), k))
            .min();
        let (imbalance, mid) = best?;
        // Worth a thread only when the halves are roughly even.
        if imbalance * 10 > total * 4 {
            return None;
        }
        let mut solve = Split::new(mid);
        solve.fwd_serial = fwd_serial_of(&self.l_ptr, &self.l_row, mid);
        Some(TwoWay {
            factor: Split::new(mid),
            solve,
        })
    }

    /// Iterative DFS from B-row `r` through the graph of L; appends reached rows to `topo`
    /// in post-order. Rows not yet pivotal are leaves.
    fn dfs(&mut self, r0: usize, k: usize) {
        self.stack.clear();
        self.stack.push(r0);
        self.mark[r0] = k;
        self.child_pos[r0] = self.pinv[r0].map_or_none(|j| self.l_ptr[j]);
        while let Some(&r) = self.stack.last() {
            let j = self.pinv[r];
            let mut descended = false;
            if j != NONE {
                let end = self.l_ptr[j + 1];
                while self.child_pos[r] < end {
                    let c = self.l_row[self.child_pos[r]] as usize;
                    self.child_pos[r] += 1;
                    if self.mark[c] != k {
                        self.mark[c] = k;
                        self.child_pos[c] = self.pinv[c].map_or_none(|jj| self.l_ptr[jj]);
                        self.stack.push(c);
                        descended = true;
                        break;
                    }
                }
            }
            if !descended {
                self.stack.pop();
                self.topo.push(r);
            }
        }
    }

    /// Refactorization (`classified`: with the change flags [`GpLu::classify`] left in
    /// `changed`), or a full factorization when there is no pattern yet or a pivot became
    /// too small. `Ok(false)`: nothing was recomputed.
    fn factor_with(&mut self, values: &[f64], classified: bool) -> Result<bool, SolveError> {
        if self.n == 0 {
            return Ok(true);
        }
        if self.have_pattern {
            match self.refactor(values, classified) {
                Refactor::Done => return Ok(true),
                Refactor::Unchanged => return Ok(false),
                Refactor::PivotTooSmall => {}
            }
        }
        self.factor_full(values).map(|()| true)
    }

    /// First pass of [`GpLu::factor_unless_close`] over the columns `cols`: marks in
    /// `changed` (indexed from `cols.start`) the columns with an entry that moved by more
    /// than [`REUSE_RTOL`], and returns how many there are and whether every moved entry
    /// stayed within `theta` of its row's and column's diagonal scale (see
    /// [`LinearSolver::factor_unless_close`]).
    fn classify(
        &self,
        values: &[f64],
        theta: f64,
        cols: std::ops::Range<usize>,
        changed: &mut [bool],
    ) -> (usize, bool) {
        let (mut moved_columns, mut close) = (0, true);
        let off = cols.start;
        for k in cols {
            let c = self.classify_column(values, theta, k, &mut close);
            changed[k - off] = c;
            moved_columns += usize::from(c);
        }
        (moved_columns, close)
    }

    /// [`GpLu::classify`] of the columns holding the positions `moved` (in any order,
    /// repeats allowed), all other columns counted as unchanged: valid when only those
    /// positions can have changed since the last call, which left every column's `b_prev`
    /// matching its values ([`GpLu::prev_matches_last`]).
    fn classify_only(&mut self, values: &[f64], theta: f64, moved: &[u32]) -> (usize, bool) {
        let mut changed = std::mem::take(&mut self.changed);
        let mut columns = std::mem::take(&mut self.touched_columns);
        changed.fill(false);
        columns.clear();
        columns.extend(moved.iter().map(|&p| self.a_col[p as usize]));
        columns.sort_unstable();
        columns.dedup();
        let (mut moved_columns, mut close) = (0, true);
        for &k in &columns {
            let c = self.classify_column(values, theta, k as usize, &mut close);
            changed[k as usize] = c;
            moved_columns += usize::from(c);
        }
        self.changed = changed;
        self.touched_columns = columns;
        (moved_columns, close)
    }

    /// Whether an entry of column `k` moved beyond the change tolerance; clears `close`
    /// when one moved by more than `theta` of its diagonal scale (see [`GpLu::classify`]).
    #[inline]
    fn classify_column(&self, values: &[f64], theta: f64, k: usize, close: &mut bool) -> bool {
        let diag = |j: usize| self.b_prev[self.b_diag[j] as usize].abs();
        let entries = self.b_col_ptr[k]..self.b_col_ptr[k + 1];
        let (src, prev) = (&self.b_src[entries.clone()], &self.b_prev[entries.clone()]);
        let c = column_moved(values, src, prev);
        if c && *close {
            let dk = diag(k);
            for ((&s, &then), &r) in src.iter().zip(prev).zip(&self.b_row[entries.clone()]) {
                let now = values[s as usize];
                if moved(now, then) {
                    let di = diag(r as usize);
                    let scale = if di > 0.0 && dk > 0.0 {
                        (di * dk).sqrt()
                    } else {
                        di.max(dk)
                    };
                    // Written so that a NaN is never close.
                    *close &= (now - then).abs() <= theta * scale;
                }
            }
        }
        c
    }

    /// [`LinearSolver::factor_unless_close`] without the bookkeeping of
    /// [`GpLu::prev_matches_last`].
    fn factor_unless_close_inner(
        &mut self,
        values: &[f64],
        theta: f64,
    ) -> Result<Factored, SolveError> {
        if self.n == 0 || !self.have_pattern || theta.is_nan() || theta <= 0.0 {
            return self.factor(values).map(Factored::from_recomputed);
        }
        let n = self.n;
        // `changed` is taken out so that both threads can read the rest of `self`.
        let mut changed = std::mem::take(&mut self.changed);
        let (moved_columns, close) = match self.two_way.zip(self.pair.as_deref()) {
            Some((TwoWay { factor, .. }, pair)) => {
                let (first, second) = changed.split_at_mut(factor.mid);
                let ((ca, a), (cb, b)) = pair.join(
                    || self.classify(values, theta, 0..factor.mid, first),
                    || self.classify(values, theta, factor.mid..n, second),
                );
                (ca + cb, a && b)
            }
            None => self.classify(values, theta, 0..n, &mut changed),
        };
        self.changed = changed;
        if moved_columns == 0 {
            return Ok(Factored::Unchanged);
        }
        if close {
            return Ok(Factored::KeptClose);
        }
        self.factor_with(values, true)
            .map(Factored::from_recomputed)
    }

    /// Numeric refactorization with the recorded pivots and patterns; with `classified`,
    /// the columns whose entries moved are those [`GpLu::classify`] marked in `changed`.
    fn refactor(&mut self, values: &[f64], classified: bool) -> Refactor {
        let n = self.n;
        self.refactorizations += 1;
        let pattern = FactorPattern {
            b_col_ptr: &self.b_col_ptr,
            b_row: &self.b_row,
            b_src: &self.b_src,
            l_ptr: &self.l_ptr,
            l_row: &self.l_row,
            u_ptr: &self.u_ptr,
            u_xrow: &self.u_xrow,
            u_row: &self.u_row,
            prow: &self.prow,
            n,
            a_nnz: self.a_nnz,
            block_start: &self.block_start,
            checked: self.checked,
        };
        let changed = classified.then_some(&self.changed[..]);
        let columns = ColumnsMut {
            b_prev: &mut self.b_prev,
            dirty: &mut self.dirty,
            l_val: &mut self.l_val,
            u_val: &mut self.u_val,
            u_diag: &mut self.u_diag,
        };
        let outcome = match self.two_way.as_mut().zip(self.pair.as_deref()) {
            Some((TwoWay { factor, .. }, pair)) => {
                let mid = factor.mid;
                let (first, second) =
                    columns.split_at(mid, self.b_col_ptr[mid], self.l_ptr[mid], self.u_ptr[mid]);
                let (x, x_second) = (&mut self.x, &mut self.x_second);
                let ((a, ta), (b, tb)) = pair.join(
                    || timed(|| pattern.refactor_columns(values, changed, 0..mid, x, first)),
                    || {
                        timed(|| {
                            pattern.refactor_columns(values, changed, mid..n, x_second, second)
                        })
                    },
                );
                factor.record([ta, tb], n, &self.block_starts);
                a.zip(b).map(|(a, b)| a + b)
            }
            None => pattern.refactor_columns(values, changed, 0..n, &mut self.x, columns),
        };
        match outcome {
            Some(0) => Refactor::Unchanged,
            Some(recomputed) => {
                self.refactored_columns += recomputed;
                Refactor::Done
            }
            // The next factorization is full (and rewrites L and U).
            None => Refactor::PivotTooSmall,
        }
    }
}

/// No family selected yet.
const NO_FAMILY: u64 = u64::MAX;
/// Memory the kept factorizations of other families may take, in bytes (16 MB per slot at
/// 256×256 1T1R).
const FAMILY_BUDGET_BYTES: usize = 256 << 20;
/// At most this many factorizations are kept besides the one in hand: a crossbar read
/// cycles through ≈ 10 step sizes after every source corner (4, 8, 16, 32 ps …), and a
/// least-recently-used cache smaller than the cycle would miss every time.
const MAX_FAMILIES: usize = 16;

/// One kept numeric factorization (the patterns are shared): the values a refactorization
/// reads and writes, consistent with each other — `b_prev` holds, per B entry, the value
/// its column was last computed from.
struct FamilySlot {
    family: u64,
    last_used: u64,
    l_val: Vec<f64>,
    u_val: Vec<f64>,
    u_diag: Vec<f64>,
    b_prev: Vec<f64>,
}

impl GpLu {
    /// Swaps the factors in hand with those kept for `family`, if any (else keeps a copy
    /// of them for their own family and goes on from them): the next refactorization then
    /// recomputes only the columns that moved since the factors it starts from. Any kept
    /// factorization is a valid start, because refactorization compares every column with
    /// the values in its `b_prev`; the family only picks the one likely to differ least. At
    /// a transient's step-size change (a new ag₀ moves every capacitor's diagonal) the
    /// factors of the last point with that step size differ only where the circuit moved.
    fn switch_family(&mut self, family: u64) {
        if family == self.family {
            return;
        }
        let old = std::mem::replace(&mut self.family, family);
        if !self.have_pattern || old == NO_FAMILY {
            return;
        }
        if self.family_capacity == 0 {
            let bytes = 8 * (self.l_val.len() + self.u_val.len() + self.n + self.b_prev.len());
            self.family_capacity = (FAMILY_BUDGET_BYTES / bytes.max(1)).clamp(1, MAX_FAMILIES);
        }
        self.family_clock += 1;
        let clock = self.family_clock;
        if let Some(i) = self.families.iter().position(|s| s.family == family) {
            // Refactor from the family's own factors; keep those in hand for theirs.
            self.family_hits += 1;
            let slot = &mut self.families[i];
            std::mem::swap(&mut slot.l_val, &mut self.l_val);
            std::mem::swap(&mut slot.u_val, &mut self.u_val);
            std::mem::swap(&mut slot.u_diag, &mut self.u_diag);
            std::mem::swap(&mut slot.b_prev, &mut self.b_prev);
            slot.family = old;
            slot.last_used = clock;
            self.prev_matches_last = false;
            return;
        }
        // A family without kept factors refactors from those in hand (the latest point: only
        // the family moved); a copy of them is kept for their own family, in a new slot while
        // the budget allows, else over the least recently used one.
        if self.families.len() < self.family_capacity {
            self.families.push(FamilySlot {
                family: old,
                last_used: clock,
                l_val: self.l_val.clone(),
                u_val: self.u_val.clone(),
                u_diag: self.u_diag.clone(),
                b_prev: self.b_prev.clone(),
            });
        } else if let Some(slot) = self.families.iter_mut().min_by_key(|s| s.last_used) {
            slot.l_val.copy_from_slice(&self.l_val);
            slot.u_val.copy_from_slice(&self.u_val);
            slot.u_diag.copy_from_slice(&self.u_diag);
            slot.b_prev.copy_from_slice(&self.b_prev);
            slot.family = old;
            slot.last_used = clock;
        }
    }
}

/// Minimum size for a two-thread factorization and solve (the helper's own threshold).
const PARALLEL_MIN_UNKNOWNS: usize = crate::spin_pair::MIN_UNKNOWNS;

/// Two-thread splits of the columns (see [`GpLu::plan_two_way`]), one for refactorization
/// and one for solves: their costs are spread differently (a refactorization's are where
/// the values changed).
#[derive(Clone, Copy, Debug)]
struct TwoWay {
    factor: Split,
    solve: Split,
}

/// Where to split, and the time each side took since the last rebalancing. Where the split
/// lies changes no arithmetic, so results do not depend on it (or on the timings).
#[derive(Clone, Copy, Debug)]
struct Split {
    /// First column of the second thread: a block boundary.
    mid: usize,
    /// Forward substitution is serial for columns below this (solves only).
    fwd_serial: usize,
    seconds: [f64; 2],
    calls: u32,
}

/// Rebalance a split after this many calls.
const REBALANCE_EVERY: u32 = 32;

impl Split {
    fn new(mid: usize) -> Split {
        Split {
            mid,
            fwd_serial: 0,
            seconds: [0.0; 2],
            calls: 0,
        }
    }

    /// Records one call's times; every [`REBALANCE_EVERY`] calls moves `mid` halfway (at
    /// most n/16) to where the measured per-column rates say the two sides would take equal
    /// time, at the nearest block start. Returns whether `mid` moved.
    fn record(&mut self, seconds: [f64; 2], n: usize, block_starts: &[usize]) -> bool {
        self.seconds[0] += seconds[0];
        self.seconds[1] += seconds[1];
        self.calls += 1;
        if self.calls < REBALANCE_EVERY {
            return false;
        }
        let [ta, tb] = self.seconds;
        self.seconds = [0.0; 2];
        self.calls = 0;
        if ta <= 0.0 || tb <= 0.0 || (ta - tb).abs() < 0.05 * (ta + tb) {
            return false;
        }
        let mid = self.mid as f64;
        let (rate_a, rate_b) = (ta / mid, tb / (n as f64 - mid));
        let target = n as f64 * rate_b / (rate_a + rate_b);
        // Half way, and by at most n/16: one noisy interval must not swing the split.
        let step = (0.5 * (target - mid)).clamp(-(n as f64) / 16.0, n as f64 / 16.0);
        let wanted = (mid + step) as usize;
        let i = block_starts.partition_point(|&b| b < wanted);
        let nearest = [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|i| block_starts.get(i).copied())
            .min_by_key(|&b| b.abs_diff(wanted));
        match nearest {
            Some(b) if b != self.mid => {
                self.mid = b;
                true
            }
            _ => false,
        }
    }
}

/// Forward substitution split at `mid`: the columns below the returned one include every
/// column under `mid` whose L reaches rows at or past `mid`.
fn fwd_serial_of(l_ptr: &[usize], l_row: &[Idx], mid: usize) -> usize {
    (0..mid)
        .rev()
        .find(|&k| {
            l_row[l_ptr[k]..l_ptr[k + 1]]
                .iter()
                .any(|&r| r as usize >= mid)
        })
        .map_or(0, |k| k + 1)
}

/// Runs `f` and returns its result and duration in seconds.
#[inline]
fn timed<R>(f: impl FnOnce() -> R) -> (R, f64) {
    let t = std::time::Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64())
}

/// The fixed patterns of B, L and U a refactorization reads, shared by its threads.
struct FactorPattern<'a> {
    b_col_ptr: &'a [usize],
    b_row: &'a [Idx],
    b_src: &'a [Idx],
    l_ptr: &'a [usize],
    l_row: &'a [Idx],
    u_ptr: &'a [usize],
    u_row: &'a [Idx],
    u_xrow: &'a [Idx],
    prow: &'a [usize],
    n: usize,
    a_nnz: usize,
    block_start: &'a [usize],
    checked: bool,
}

/// The per-column state a refactorization writes, for a range of columns: each slice starts
/// at the range's first column (its first entry of B, L, U).
struct ColumnsMut<'a> {
    b_prev: &'a mut [f64],
    dirty: &'a mut [bool],
    l_val: &'a mut [f64],
    u_val: &'a mut [f64],
    u_diag: &'a mut [f64],
}

impl<'a> ColumnsMut<'a> {
    /// Splits the state at column `mid`, whose first B, L and U entries are `b_mid`,
    /// `l_mid` and `u_mid`.
    fn split_at(
        self,
        mid: usize,
        b_mid: usize,
        l_mid: usize,
        u_mid: usize,
    ) -> (ColumnsMut<'a>, ColumnsMut<'a>) {
        let (b0, b1) = self.b_prev.split_at_mut(b_mid);
        let (d0, d1) = self.dirty.split_at_mut(mid);
        let (l0, l1) = self.l_val.split_at_mut(l_mid);
        let (u0, u1) = self.u_val.split_at_mut(u_mid);
        let (g0, g1) = self.u_diag.split_at_mut(mid);
        (
            ColumnsMut {
                b_prev: b0,
                dirty: d0,
                l_val: l0,
                u_val: u0,
                u_diag: g0,
            },
            ColumnsMut {
                b_prev: b1,
                dirty: d1,
                l_val: l1,
                u_val: u1,
                u_diag: g1,
            },
        )
    }
}

impl FactorPattern<'_> {
    /// Refactorizes the columns `cols`, which must be whole blocks (a column reads only L
    /// columns of its own block): a column is recomputed when one of its entries moved by
    /// more than [`REUSE_RTOL`] from `b_prev` (a NaN always counts as moved) or a column
    /// that updates it (U's entries, earlier columns of its block) was recomputed; it then
    /// takes all its present values into `b_prev`. `x` is a
    /// clean work vector and is left clean. Returns the number of columns recomputed (0
    /// exactly when no entry moved), or None when a pivot became too small.
    fn refactor_columns(
        &self,
        values: &[f64],
        classified: Option<&[bool]>,
        cols: std::ops::Range<usize>,
        x: &mut [f64],
        out: ColumnsMut<'_>,
    ) -> Option<usize> {
        let (b_off, l_off, u_off, d_off) = (
            self.b_col_ptr[cols.start],
            self.l_ptr[cols.start],
            self.u_ptr[cols.start],
            cols.start,
        );
        let ColumnsMut {
            b_prev,
            dirty,
            l_val,
            u_val,
            u_diag,
        } = out;
        let (b_col_ptr, b_row, b_src) = (self.b_col_ptr, self.b_row, self.b_src);
        let (l_ptr, l_row, u_ptr, u_row, u_xrow, prow) = (
            self.l_ptr,
            self.l_row,
            self.u_ptr,
            self.u_row,
            self.u_xrow,
            self.prow,
        );
        // The kernel below reads without bounds checks. Its indices were checked once, when
        // the patterns were made ([`GpLu::check_patterns`]: rows < n, positions < the length
        // of A's values, pointers nondecreasing, U rows of a column inside its block, in
        // which `cols` starts); what depends on the arguments is checked here.
        assert!(self.checked && cols.end <= self.n && x.len() >= self.n);
        assert!(values.len() >= self.a_nnz);
        assert!(cols.start == 0 || self.block_start[cols.start] == cols.start);
        assert!(cols.end == self.n || self.block_start[cols.end] == cols.end);
        assert!(classified.is_none_or(|c| c.len() >= cols.end));
        assert_eq!(b_prev.len(), b_col_ptr[cols.end] - b_off);
        assert_eq!(dirty.len(), cols.end - d_off);
        assert_eq!(l_val.len(), l_ptr[cols.end] - l_off);
        assert_eq!(u_val.len(), u_ptr[cols.end] - u_off);
        assert_eq!(u_diag.len(), cols.end - d_off);
        let mut recomputed = 0;
        for k in cols {
            // SAFETY (every access in this loop): see the checks above. A U row j of column k
            // lies in k's block, so cols.start <= j < k and L column j's entries lie in
            // l_ptr[cols.start]..l_ptr[cols.end]; B rows, L rows, U work rows and pivot rows
            // are < n <= x.len(); B positions are < a_nnz <= values.len().
            unsafe {
                let (b0, b1) = (*b_col_ptr.get_unchecked(k), *b_col_ptr.get_unchecked(k + 1));
                // A column updated by a recomputed column is recomputed whatever its own
                // entries did, so they are compared only when none of its updates is dirty.
                let (u0, u1) = (*u_ptr.get_unchecked(k), *u_ptr.get_unchecked(k + 1));
                let d = u_row
                    .get_unchecked(u0..u1)
                    .iter()
                    .any(|&j| *dirty.get_unchecked(j as usize - d_off))
                    || match classified {
                        Some(c) => *c.get_unchecked(k),
                        None => column_moved(
                            values,
                            b_src.get_unchecked(b0..b1),
                            b_prev.get_unchecked(b0 - b_off..b1 - b_off),
                        ),
                    };
                *dirty.get_unchecked_mut(k - d_off) = d;
                if !d {
                    continue;
                }
                recomputed += 1;
                // A recomputed column takes all its present values.
                for p in b0..b1 {
                    let v = *values.get_unchecked(*b_src.get_unchecked(p) as usize);
                    *b_prev.get_unchecked_mut(p - b_off) = v;
                    *x.get_unchecked_mut(*b_row.get_unchecked(p) as usize) = v;
                }
                let mut col_max = 0.0f64;
                // U entries come in topological order: once row prow[j] is read, no later
                // update of this column writes it, so it is cleared at once.
                for p in u0..u1 {
                    let xr = *u_xrow.get_unchecked(p) as usize;
                    let xj = *x.get_unchecked(xr);
                    *x.get_unchecked_mut(xr) = 0.0;
                    *u_val.get_unchecked_mut(p - u_off) = xj;
                    col_max = col_max.max(xj.abs());
                    let j = *u_row.get_unchecked(p) as usize;
                    let (l0, l1) = (*l_ptr.get_unchecked(j), *l_ptr.get_unchecked(j + 1));
                    for q in l0..l1 {
                        let r = *l_row.get_unchecked(q) as usize;
                        *x.get_unchecked_mut(r) -= *l_val.get_unchecked(q - l_off) * xj;
                    }
                }
                let pr = *prow.get_unchecked(k);
                let pivot = *x.get_unchecked(pr);
                *x.get_unchecked_mut(pr) = 0.0;
                let inv = 1.0 / pivot;
                // Every row of B[:, k] is a U row, an L row or the pivot row (the pattern
                // is closed), so after this loop the work vector is clean again.
                let (l0, l1) = (*l_ptr.get_unchecked(k), *l_ptr.get_unchecked(k + 1));
                for q in l0..l1 {
                    let r = *l_row.get_unchecked(q) as usize;
                    let v = *x.get_unchecked(r);
                    *x.get_unchecked_mut(r) = 0.0;
                    col_max = col_max.max(v.abs());
                    *l_val.get_unchecked_mut(q - l_off) = v * inv;
                }
                if pivot.abs() <= REFACTOR_PIVOT_TOL * col_max || !pivot.is_finite() {
                    return None;
                }
                *u_diag.get_unchecked_mut(k - d_off) = pivot;
            }
        }
        Some(recomputed)
    }
}

trait MapOrNone {
    fn map_or_none(self, f: impl FnOnce(usize) -> usize) -> usize;
}
impl MapOrNone for usize {
    #[inline]
    fn map_or_none(self, f: impl FnOnce(usize) -> usize) -> usize {
        if self == NONE { 0 } else { f(self) }
    }
}

impl LinearSolver for GpLu {
    fn select_family(&mut self, family: u64) {
        self.switch_family(family);
    }

    fn family_reuses(&self) -> usize {
        self.family_hits
    }

    fn factor(&mut self, values: &[f64]) -> Result<bool, SolveError> {
        let result = self.factor_with(values, false);
        self.prev_matches_last = result.is_ok();
        result
    }

    fn factor_unless_close_since(
        &mut self,
        values: &[f64],
        theta: f64,
        moved_since_last: Option<&[u32]>,
    ) -> Result<Factored, SolveError> {
        let Some(moved) = moved_since_last.filter(|_| {
            self.prev_matches_last && self.n > 0 && self.have_pattern && !theta.is_nan()
        }) else {
            return self.factor_unless_close(values, theta);
        };
        // The decisions of `factor_unless_close` (and, for theta = 0, of `factor`'s own
        // change detection), found from the moved positions' columns only.
        let (moved_columns, close) = self.classify_only(values, theta.max(0.0), moved);
        let result = if moved_columns == 0 {
            Ok(Factored::Unchanged)
        } else if close && theta > 0.0 {
            Ok(Factored::KeptClose)
        } else {
            self.factor_with(values, true)
                .map(Factored::from_recomputed)
        };
        self.prev_matches_last = matches!(result, Ok(Factored::Recomputed | Factored::Unchanged));
        result
    }

    fn factor_unless_close(&mut self, values: &[f64], theta: f64) -> Result<Factored, SolveError> {
        let result = self.factor_unless_close_inner(values, theta);
        self.prev_matches_last = matches!(result, Ok(Factored::Recomputed | Factored::Unchanged));
        result
    }

    fn factor_nnz(&self) -> usize {
        self.l_row.len() + self.u_row.len() + self.n
    }

    fn columns_recomputed(&self) -> usize {
        self.full_factorizations * self.n + self.refactored_columns
    }

    fn solve(&mut self, rhs: &mut [f64]) {
        if self.permute_rhs(rhs) {
            self.solve_permuted(rhs);
        }
    }

    fn solve_from(&mut self, rhs: &[f64], out: &mut [f64]) {
        assert_eq!(rhs.len(), out.len());
        if self.permute_rhs(rhs) {
            self.solve_permuted(out);
        } else {
            out.copy_from_slice(rhs);
        }
    }
}

impl GpLu {
    /// c = P b into `solve_work` (B row numbering); false when there are no factors to
    /// solve with.
    fn permute_rhs(&mut self, rhs: &[f64]) -> bool {
        if self.n == 0 || !self.have_pattern {
            return false;
        }
        for (w, &p) in self.solve_work.iter_mut().zip(&self.perm) {
            *w = rhs[p];
        }
        true
    }

    /// The substitutions for the permuted right-hand side in `solve_work`, and the solution
    /// written to `out` in the caller's order.
    fn solve_permuted(&mut self, out: &mut [f64]) {
        let n = self.n;
        // `work` and `y` are fully overwritten (work by the caller's permutation), so
        // neither needs clearing (the factorization's work vector `x` stays untouched and
        // clean).
        let (work, y) = (&mut self.solve_work, &mut self.solve_y);
        assert!(self.checked);
        let factors = Factors {
            prow: &self.prow,
            block_start: &self.block_start,
            row_max: &self.row_max,
            u_diag: &self.u_diag,
            l_ptr: &self.l_ptr,
            l_row: &self.l_row,
            l_val: &self.l_val,
            u_ptr: &self.u_ptr,
            u_row: &self.u_row,
            u_val: &self.u_val,
        };
        match self.two_way.as_mut().zip(self.pair.as_deref()) {
            Some((TwoWay { solve, .. }, pair)) => {
                let (mid, fwd_serial) = (solve.mid, solve.fwd_serial);
                factors.forward(0..fwd_serial, work, y, 0);
                let (w_first, w_second) = work.split_at_mut(mid);
                let (y_first, y_second) = y.split_at_mut(mid);
                let ((), ta, (), tb) = {
                    let (a, b) = pair.join(
                        || {
                            timed(|| {
                                factors.forward(fwd_serial..mid, w_first, y_first, 0);
                                factors.backward(0..mid, y_first, 0);
                            })
                        },
                        || {
                            timed(|| {
                                factors.forward(mid..n, w_second, y_second, mid);
                                factors.backward(mid..n, y_second, mid);
                            })
                        },
                    );
                    (a.0, a.1, b.0, b.1)
                };
                if solve.record([ta, tb], n, &self.block_starts) {
                    let fwd = fwd_serial_of(&self.l_ptr, &self.l_row, solve.mid);
                    if fwd < solve.mid {
                        solve.fwd_serial = fwd;
                    } else {
                        solve.mid = mid;
                    }
                }
            }
            None => {
                factors.forward(0..n, work, y, 0);
                factors.backward(0..n, y, 0);
            }
        }
        for (&p, &v) in self.perm.iter().zip(y.iter()) {
            out[p] = v;
        }
    }
}

/// The factors a solve reads, shared by its threads.
struct Factors<'a> {
    prow: &'a [usize],
    block_start: &'a [usize],
    row_max: &'a [usize],
    u_diag: &'a [f64],
    l_ptr: &'a [usize],
    l_row: &'a [Idx],
    l_val: &'a [f64],
    u_ptr: &'a [usize],
    u_row: &'a [Idx],
    u_val: &'a [f64],
}

impl Factors<'_> {
    /// Forward substitution L y = Q c over the steps `cols`. `work` (B rows) and `y` (steps)
    /// are slices starting at index `off`; every row the L columns of `cols` touch must lie
    /// in them (checked per column against the column's largest L row).
    fn forward(&self, cols: std::ops::Range<usize>, work: &mut [f64], y: &mut [f64], off: usize) {
        if cols.is_empty() {
            return;
        }
        // Rows of a column's L and its pivot row are at or past its block's start.
        assert!(self.block_start[cols.start] >= off && cols.end <= off + y.len());
        let lim = off + work.len();
        for k in cols {
            assert!(self.row_max[k] < lim);
            // SAFETY: k < n; prow[k] and the rows of L column k lie in
            // block_start[k]..=row_max[k] (checked with the patterns), hence in
            // off..off + work.len() by the two assertions; k - off < y.len().
            unsafe {
                let yk = *work.get_unchecked(*self.prow.get_unchecked(k) - off);
                *y.get_unchecked_mut(k - off) = yk;
                if yk != 0.0 {
                    let (l0, l1) = (
                        *self.l_ptr.get_unchecked(k),
                        *self.l_ptr.get_unchecked(k + 1),
                    );
                    for q in l0..l1 {
                        let r = *self.l_row.get_unchecked(q) as usize;
                        *work.get_unchecked_mut(r - off) -= *self.l_val.get_unchecked(q) * yk;
                    }
                }
            }
        }
    }

    /// Back substitution U z = y (column-oriented) over the steps `cols`, which must be whole
    /// blocks (U does not couple blocks); `y` starts at index `off`.
    fn backward(&self, cols: std::ops::Range<usize>, y: &mut [f64], off: usize) {
        if cols.is_empty() {
            return;
        }
        assert!(self.block_start[cols.start] >= off && cols.end <= off + y.len());
        for k in cols.rev() {
            // SAFETY: k < n, and U column k's rows j satisfy block_start[k] <= j < k
            // (checked with the patterns), so off <= j < cols.end <= off + y.len().
            unsafe {
                let zk = *y.get_unchecked(k - off) / *self.u_diag.get_unchecked(k);
                *y.get_unchecked_mut(k - off) = zk;
                if zk != 0.0 {
                    let (u0, u1) = (
                        *self.u_ptr.get_unchecked(k),
                        *self.u_ptr.get_unchecked(k + 1),
                    );
                    for q in u0..u1 {
                        let r = *self.u_row.get_unchecked(q) as usize;
                        *y.get_unchecked_mut(r - off) -= *self.u_val.get_unchecked(q) * zk;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::PatternBuilder;

    /// Random sparse, diagonally weak matrices: the solution must satisfy A x = b, also after
    /// refactorization with new values and after a forced re-pivot.
    #[test]
    fn solves_random_sparse_systems_and_refactors() {
        let n = 60;
        let mut seed = 12345u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1_000_000) as f64 / 1_000_000.0
        };
        let mut pb = PatternBuilder::new();
        let mut entries = Vec::new();
        for i in 1..=n {
            entries.push((i, i));
            for _ in 0..3 {
                let j = 1 + (rnd() * n as f64) as usize % n;
                entries.push((i, j));
                entries.push((j, i));
            }
        }
        let slots: Vec<usize> = entries.iter().map(|&(r, c)| pb.slot(r, c)).collect();
        let n_slots = pb.mat_slot_count();
        let asm = pb.finish(n + 1);
        let mut lu = GpLu::new(&asm).unwrap();
        for round in 0..3 {
            let mut buf = vec![0.0; n_slots];
            for (s, &(r, c)) in slots.iter().zip(&entries) {
                // Round 2 makes some diagonals tiny to force pivoting off the diagonal.
                buf[*s] += if r == c {
                    if round == 2 && r % 3 == 0 { 1e-14 } else { 4.0 }
                } else {
                    rnd() - 0.5
                };
            }
            let mut values = vec![0.0; asm.nnz()];
            let mut dummy = vec![0.0; n];
            asm.gather(&buf, &[0.0], &mut values, &mut dummy);
            let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
            let mut x = b.clone();
            lu.factor(&values).unwrap();
            lu.solve(&mut x);
            let r = asm.residual(&values, &x, &b);
            let worst = r.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(worst < 1e-10, "round {round}: residual {worst}");
        }
        assert!(lu.refactorizations >= 2);
    }

    /// A tridiagonal matrix in independent blocks of `block` unknowns (1-based diagonal
    /// `diag(i)`, `upper`/`lower` off the diagonal): its assembler, the stamp buffer holding
    /// its values and the buffer slot of each (row, column).
    struct Tridiagonal {
        asm: Assembler,
        buf: Vec<f64>,
        slots: Vec<((usize, usize), usize)>,
    }

    impl Tridiagonal {
        fn new(
            n: usize,
            block: usize,
            diag: impl Fn(usize) -> f64,
            upper: f64,
            lower: f64,
        ) -> Self {
            let mut pb = PatternBuilder::new();
            let mut entries = Vec::new();
            for i in 1..=n {
                entries.push((i, i, diag(i)));
                if i % block != 0 && i < n {
                    entries.push((i, i + 1, upper));
                    entries.push((i + 1, i, lower));
                }
            }
            let slots: Vec<_> = entries
                .iter()
                .map(|&(r, c, _)| ((r, c), pb.slot(r, c)))
                .collect();
            let mut buf = vec![0.0; pb.mat_slot_count()];
            for (&(_, s), &(_, _, v)) in slots.iter().zip(&entries) {
                buf[s] = v;
            }
            Tridiagonal {
                asm: pb.finish(n + 1),
                buf,
                slots,
            }
        }

        /// The buffer entry of (row, column).
        fn entry(&mut self, r: usize, c: usize) -> &mut f64 {
            let s = self.slots.iter().find(|&&(rc, _)| rc == (r, c)).unwrap().1;
            &mut self.buf[s]
        }

        /// The matrix values (the buffer gathered).
        fn values(&self) -> Vec<f64> {
            let mut values = vec![0.0; self.asm.nnz()];
            let mut dummy = vec![0.0; self.asm.n];
            self.asm.gather(&self.buf, &[0.0], &mut values, &mut dummy);
            values
        }

        /// Factors with `lu` and solves for `b`: whether anything was recomputed, and the
        /// largest residual.
        fn factor_and_solve(&self, lu: &mut GpLu, b: &[f64]) -> (bool, f64) {
            let values = self.values();
            let worked = lu.factor(&values).unwrap();
            let mut x = b.to_vec();
            lu.solve(&mut x);
            let r = self.asm.residual(&values, &x, b);
            (worked, r.iter().fold(0.0f64, |m, v| m.max(v.abs())))
        }
    }

    /// Partial refactorization: after changing one entry, only the columns that depend on
    /// it are recomputed, and the solution matches the exact one.
    #[test]
    fn partial_refactor_recomputes_only_dependent_columns() {
        // Two independent tridiagonal blocks: a change in the second leaves the first alone.
        let n = 40;
        let mut m = Tridiagonal::new(n, 20, |_| 4.0, -1.0, -1.5);
        let mut lu = GpLu::new(&m.asm).unwrap();
        let b: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        assert!(m.factor_and_solve(&mut lu, &b).1 < 1e-12);
        // Change the diagonal of unknown 30 (second block) only.
        *m.entry(30, 30) = 7.0;
        assert!(m.factor_and_solve(&mut lu, &b).1 < 1e-12);
        assert_eq!(lu.refactorizations, 1);
        assert!(lu.refactored_columns > 0 && lu.refactored_columns <= 20);
    }

    /// Factor families: a matrix family whose every diagonal moves with a parameter (as a
    /// capacitor's companion moves with the step size) refactors, back in a family seen
    /// before, only the columns that moved since that family's kept factors — not every
    /// column, as from the other family's factors — and still solves to 1e-12. A full
    /// factorization (new pivots) drops the kept factors.
    #[test]
    fn kept_family_factors_refactor_only_what_moved() {
        let n = 40;
        let b: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        // Two independent blocks of 20; family f adds f to every diagonal.
        let matrix = |f: f64| Tridiagonal::new(n, 20, |_| 4.0 + f, -1.0, -1.5);
        let (family_a, family_b) = (0.5f64, 2.0f64);
        let mut with = GpLu::new(&matrix(family_a).asm).unwrap();
        let mut without = GpLu::new(&matrix(family_a).asm).unwrap();
        for lu in [&mut with, &mut without] {
            lu.select_family(family_a.to_bits());
            assert!(matrix(family_a).factor_and_solve(lu, &b).1 < 1e-12);
            lu.select_family(family_b.to_bits());
            assert!(matrix(family_b).factor_and_solve(lu, &b).1 < 1e-12);
        }
        // Back to family a with one entry of the second block changed: only the columns
        // from unknown 30 to the end of its block depend on it.
        let mut changed = matrix(family_a);
        *changed.entry(30, 30) += 1.0;
        with.select_family(family_a.to_bits());
        let before = (with.refactored_columns, without.refactored_columns);
        assert!(changed.factor_and_solve(&mut with, &b).1 < 1e-12);
        assert!(changed.factor_and_solve(&mut without, &b).1 < 1e-12);
        let recomputed = with.refactored_columns - before.0;
        assert!((1..=11).contains(&recomputed), "{recomputed} columns");
        assert_eq!(without.refactored_columns - before.1, n);
        assert_eq!(with.family_reuses(), 1);
        // Family b's factors were kept too: its unchanged matrix recomputes nothing.
        with.select_family(family_b.to_bits());
        let (worked, residual) = matrix(family_b).factor_and_solve(&mut with, &b);
        assert!(!worked && residual < 1e-12, "{worked} {residual}");
        assert_eq!(with.family_reuses(), 2);
        // New pivots (tiny diagonals in the first block) force a full factorization, which
        // drops the slots.
        let mut repivot = matrix(family_b);
        for i in 1..=20 {
            *repivot.entry(i, i) = 1e-14;
        }
        assert!(repivot.factor_and_solve(&mut with, &b).1 < 1e-10);
        assert!(with.full_factorizations >= 2 && with.families.is_empty());
        // (Refactoring a diagonally dominant matrix with those off-diagonal pivots loses
        // digits — as without families — so only the bookkeeping is checked here.)
        with.select_family(family_a.to_bits());
        assert!(changed.factor_and_solve(&mut with, &b).1 < 1e-6);
        assert_eq!(
            with.family_reuses(),
            2,
            "no kept factors of family a remain"
        );
    }

    /// Change detection: a last-bit move of an entry (below `REUSE_RTOL`) recomputes
    /// nothing and the old factors still solve the new matrix to 1e-13; a move above the
    /// tolerance, and a NaN, are recomputed.
    #[test]
    fn last_bit_changes_reuse_the_factors() {
        let n = 30;
        let mut m = Tridiagonal::new(n, n, |i| 3.0 + i as f64 * 0.01, -1.0, -1.2);
        let mut lu = GpLu::new(&m.asm).unwrap();
        let b: Vec<f64> = (0..n).map(|i| 1.0 - 0.05 * i as f64).collect();
        assert!(m.factor_and_solve(&mut lu, &b).1 < 1e-13);
        assert!(m.factor_and_solve(&mut lu, &b).1 < 1e-13); // the pattern's first refactorization
        let before = lu.refactored_columns;
        *m.entry(12, 12) *= 1.0 + 1e-15;
        let (worked, residual) = m.factor_and_solve(&mut lu, &b);
        assert!(!worked, "a last-bit change must not recompute");
        assert_eq!(lu.refactored_columns, before);
        assert!(residual < 1e-13, "residual {residual}");
        *m.entry(12, 12) *= 1.0 + 1e-9;
        let (worked, residual) = m.factor_and_solve(&mut lu, &b);
        assert!(worked && lu.refactored_columns > before);
        assert!(residual < 1e-13, "residual {residual}");
        *m.entry(12, 12) = f64::NAN;
        assert!(
            !matches!(lu.factor(&m.values()), Ok(false)),
            "a NaN entry must not pass as unchanged"
        );
    }

    /// A crossbar-like matrix — driver unknowns that feed 64 independent ladders (block
    /// lower triangular) — factored, refactored and solved on two threads gives bit for bit
    /// what one thread gives, and solves the system.
    #[test]
    fn two_threads_give_the_same_bits_as_one() {
        let (ladders, len) = (64usize, 80usize);
        let drivers = 16usize;
        let n = drivers + ladders * len;
        assert!(n >= PARALLEL_MIN_UNKNOWNS);
        let mut pb = PatternBuilder::new();
        let mut entries = Vec::new();
        for d in 1..=drivers {
            entries.push((d, d, 1.0));
        }
        for l in 0..ladders {
            let first = drivers + l * len + 1;
            for i in 0..len {
                let u = first + i;
                entries.push((u, u, 4.0 + (u % 7) as f64));
                if i + 1 < len {
                    entries.push((u, u + 1, -1.0));
                    entries.push((u + 1, u, -1.25));
                }
                // Each ladder node listens to a driver (a gate): a one-way coupling.
                entries.push((u, 1 + (u + l) % drivers, 0.5));
            }
        }
        let slots: Vec<usize> = entries.iter().map(|&(r, c, _)| pb.slot(r, c)).collect();
        let asm = pb.finish(n + 1);
        let mut buf = vec![0.0; pb_slots(&slots)];
        for (s, &(_, _, v)) in slots.iter().zip(&entries) {
            buf[*s] += v;
        }
        let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.1).cos()).collect();
        let run = |pair: Option<Arc<SpinPair>>, buf: &mut Vec<f64>| {
            let mut lu = GpLu::new(&asm).unwrap();
            lu.set_pair(pair);
            let mut out = Vec::new();
            for round in 0..3 {
                if round > 0 {
                    // Change a few entries in several ladders: a partial refactorization.
                    for k in (0..slots.len()).step_by(997) {
                        buf[slots[k]] *= 1.0 + 0.01 * round as f64;
                    }
                }
                let mut values = vec![0.0; asm.nnz()];
                let mut dummy = vec![0.0; n];
                asm.gather(buf, &[0.0], &mut values, &mut dummy);
                let mut x = b.clone();
                if round == 1 {
                    // Through the classifying pass (too large a move to keep the factors).
                    let outcome = lu.factor_unless_close(&values, 1e-6).unwrap();
                    assert_eq!(outcome, Factored::Recomputed);
                } else {
                    lu.factor(&values).unwrap();
                }
                lu.solve(&mut x);
                let r = asm.residual(&values, &x, &b);
                assert!(r.iter().all(|v| v.abs() < 1e-12), "round {round}");
                out.push(x);
            }
            (out, lu.two_way, lu.refactored_columns)
        };
        let (serial, plan, cols_serial) = run(None, &mut buf.clone());
        assert!(plan.is_none());
        let (parallel, plan, cols_parallel) = run(Some(Arc::new(SpinPair::new())), &mut buf);
        let plan = plan.expect("a two-way split");
        assert!(plan.solve.fwd_serial >= drivers && plan.solve.fwd_serial < plan.solve.mid);
        assert_eq!(cols_serial, cols_parallel);
        for (a, b) in serial.iter().zip(&parallel) {
            assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }

    /// `factor_unless_close` keeps the factors only for moves within `theta` of the
    /// diagonal scale; chord steps with kept factors converge to the new matrix's solution
    /// (not the old one's); equal values, large moves and NaNs are told apart.
    #[test]
    fn chord_steps_with_kept_factors_reach_the_new_solution() {
        let n = 30;
        let mut m = Tridiagonal::new(n, n, |i| 3.0 + i as f64 * 0.01, -1.0, -1.2);
        let mut lu = GpLu::new(&m.asm).unwrap();
        let b: Vec<f64> = (0..n).map(|i| 1.0 - 0.05 * i as f64).collect();
        let theta = 0.03;
        assert_eq!(
            lu.factor_unless_close(&m.values(), theta).unwrap(),
            Factored::Recomputed
        );
        assert_eq!(
            lu.factor_unless_close(&m.values(), theta).unwrap(),
            Factored::Unchanged
        );
        // 2 % of the diagonal scale (about 3.1) on one off-diagonal entry: kept.
        *m.entry(12, 13) -= 0.02 * 3.1;
        let values = m.values();
        let before = (lu.refactorizations, lu.full_factorizations);
        assert_eq!(
            lu.factor_unless_close(&values, theta).unwrap(),
            Factored::KeptClose
        );
        assert_eq!((lu.refactorizations, lu.full_factorizations), before);
        // The old factors alone solve the old matrix, not this one ...
        let mut x_old = b.clone();
        lu.solve(&mut x_old);
        let stale = m.asm.residual(&values, &x_old, &b);
        assert!(stale.iter().any(|v| v.abs() > 1e-4), "the move must matter");
        // ... while chord steps x ← x + A₀⁻¹(b − A·x) contract to A's solution.
        let mut x = vec![0.0; n];
        let mut r = vec![0.0; n];
        for _ in 0..12 {
            m.asm.residual_into(&values, &x, &b, &mut r);
            lu.solve(&mut r);
            x.iter_mut().zip(&r).for_each(|(x, d)| *x += d);
        }
        m.asm.residual_into(&values, &x, &b, &mut r);
        let worst = r.iter().fold(0.0f64, |w, v| w.max(v.abs()));
        assert!(worst < 1e-12, "chord residual {worst}");
        // 10 % of the scale: refactored; a NaN is never close.
        *m.entry(12, 13) -= 0.1 * 3.1;
        assert_eq!(
            lu.factor_unless_close(&m.values(), theta).unwrap(),
            Factored::Recomputed
        );
        *m.entry(12, 13) = f64::NAN;
        assert_ne!(
            lu.factor_unless_close(&m.values(), theta),
            Ok(Factored::KeptClose)
        );
    }

    fn pb_slots(slots: &[usize]) -> usize {
        slots.iter().max().map_or(1, |m| m + 1)
    }
}
