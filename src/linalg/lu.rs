//! Sparse LU backends behind one trait, so a second backend can be measured against the first.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::lu::partial_pivoting::factor::PartialPivLuParams;
use faer::sparse::linalg::lu::{LuSymbolicParams, NumericLu, SymbolicLu, factorize_symbolic_lu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Spec};

use super::Assembler;

/// Why a linear solve failed.
#[derive(Debug, Clone, PartialEq)]
pub enum SolveError {
    /// The matrix is numerically singular (a floating node, a source loop, a zero pivot).
    Singular,
    /// The backend could not allocate or analyse the pattern.
    Backend(String),
}

impl std::fmt::Display for SolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SolveError::Singular => f.write_str("singular matrix"),
            SolveError::Backend(s) => write!(f, "linear solver: {s}"),
        }
    }
}

/// What [`LinearSolver::factor_unless_close`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factored {
    /// The factors now describe the given values.
    Recomputed,
    /// The values equal those of the factors in hand (to within last bits).
    Unchanged,
    /// The values moved, but little enough that the factors in hand were kept.
    KeptClose,
}

impl Factored {
    /// From [`LinearSolver::factor`]'s answer.
    pub fn from_recomputed(recomputed: bool) -> Factored {
        if recomputed {
            Factored::Recomputed
        } else {
            Factored::Unchanged
        }
    }
}

/// A sparse direct solver for a fixed pattern: analyse once, factor many times.
pub trait LinearSolver: Send {
    /// Numeric factorization of the matrix with the pattern given at construction.
    /// `Ok(false)`: the values equal the last factorization's and nothing was recomputed.
    fn factor(&mut self, values: &[f64]) -> Result<bool, SolveError>;
    /// Tells the solver that the next matrices belong to `family` (in a transient, the
    /// integration coefficient ag₀, on which every capacitor's companion conductance
    /// depends). A backend may keep one factorization per family and refactor from the
    /// matching one; its answers must be those of refactoring from the last factorization,
    /// to within its change tolerance.
    fn select_family(&mut self, _family: u64) {}
    /// Solve in place with the last factorization.
    fn solve(&mut self, rhs: &mut [f64]);
    /// Solve with the last factorization for `rhs`, into `out` (same length); a backend
    /// whose first step permutes the right-hand side reads `rhs` there instead of a copy.
    fn solve_from(&mut self, rhs: &[f64], out: &mut [f64]) {
        out.copy_from_slice(rhs);
        self.solve(out);
    }
    /// Columns recomputed by all factorizations so far (a full factorization counts every
    /// column; partial refactorization only the changed ones); 0 if unknown.
    fn columns_recomputed(&self) -> usize {
        0
    }
    /// Factorizations that started from the kept factors of the selected family (see
    /// [`LinearSolver::select_family`]); 0 if the backend keeps none.
    fn family_reuses(&self) -> usize {
        0
    }
    /// Stored nonzeros of the factors (fill-in diagnostics); 0 if unknown.
    fn factor_nnz(&self) -> usize {
        0
    }
    /// Like [`LinearSolver::factor`], but keeps the factors in hand when every entry moved
    /// by at most `theta` times the geometric mean of its row's and column's diagonal
    /// magnitudes (the larger one when either is zero) at their last factorization: the
    /// caller then solves a residual equation with them (a chord step of Newton's method).
    /// A backend that cannot tell always factors.
    fn factor_unless_close(&mut self, values: &[f64], _theta: f64) -> Result<Factored, SolveError> {
        self.factor(values).map(Factored::from_recomputed)
    }
    /// [`LinearSolver::factor_unless_close`], told that since the last factorization call
    /// only the values at the positions `moved_since_last` can have changed (None: any
    /// may have). The answer must be the same as without the hint; a backend may use it to
    /// look at fewer entries.
    fn factor_unless_close_since(
        &mut self,
        values: &[f64],
        theta: f64,
        _moved_since_last: Option<&[u32]>,
    ) -> Result<Factored, SolveError> {
        self.factor_unless_close(values, theta)
    }
}

/// faer's sparse LU with the symbolic factorization computed once.
pub struct SparseLu {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    symbolic: SymbolicLu<usize>,
    numeric: NumericLu<usize, f64>,
    factor_mem: MemBuffer,
    solve_mem: MemBuffer,
    factored: bool,
}

impl SparseLu {
    /// Symbolic analysis of the assembler's pattern.
    pub fn new(asm: &Assembler) -> Result<Self, SolveError> {
        let n = asm.n;
        let col_ptr = asm.col_ptr.clone();
        let row_idx = asm.row_idx.clone();
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let params = LuSymbolicParams {
            supernodal_flop_ratio_threshold:
                faer::sparse::linalg::SupernodalThreshold::FORCE_SIMPLICIAL,
            ..Default::default()
        };
        let symbolic = factorize_symbolic_lu(sym, params)
            .map_err(|e| SolveError::Backend(format!("{e:?}")))?;
        let par = Par::Seq;
        let factor_req: StackReq = symbolic
            .factorize_numeric_lu_scratch::<f64>(par, Spec::<PartialPivLuParams, f64>::default());
        let solve_req: StackReq = symbolic.solve_in_place_scratch::<f64>(1, par);
        let factor_mem =
            MemBuffer::try_new(factor_req).map_err(|e| SolveError::Backend(format!("{e:?}")))?;
        let solve_mem =
            MemBuffer::try_new(solve_req).map_err(|e| SolveError::Backend(format!("{e:?}")))?;
        Ok(SparseLu {
            n,
            col_ptr,
            row_idx,
            symbolic,
            numeric: NumericLu::new(),
            factor_mem,
            solve_mem,
            factored: false,
        })
    }
}

impl LinearSolver for SparseLu {
    fn factor(&mut self, values: &[f64]) -> Result<bool, SolveError> {
        self.factored = false;
        if self.n == 0 {
            self.factored = true;
            return Ok(true);
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(SolveError::Singular);
        }
        let sym = SymbolicSparseColMatRef::new_checked(
            self.n,
            self.n,
            &self.col_ptr,
            None,
            &self.row_idx,
        );
        let mat = SparseColMatRef::new(sym, values);
        let stack = MemStack::new(&mut self.factor_mem);
        self.symbolic
            .factorize_numeric_lu(&mut self.numeric, mat, Par::Seq, stack, Default::default())
            .map_err(|_| SolveError::Singular)?;
        self.factored = true;
        Ok(true)
    }

    fn solve(&mut self, rhs: &mut [f64]) {
        if self.n == 0 || !self.factored {
            return;
        }
        // `numeric` was produced from `symbolic` in `factor`, which is all LuRef requires.
        let lu = faer::sparse::linalg::lu::LuRef::new_unchecked(&self.symbolic, &self.numeric);
        let stack = MemStack::new(&mut self.solve_mem);
        let n = self.n;
        let rhs_mat = MatMut::from_column_major_slice_mut(rhs, n, 1);
        lu.solve_in_place_with_conj(Conj::No, rhs_mat, Par::Seq, stack);
    }
}
