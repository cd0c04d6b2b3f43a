//! Fill-reducing orders for the circuit LU ([`super::GpLu`]), in two levels as KLU does:
//!
//! 1. Block triangular form — the strongly connected components of the graph of A (edge
//!    i → j when a_ij is structurally nonzero; the pattern's diagonal is always present, so
//!    the identity is a full transversal), emitted by Tarjan's algorithm in dependency order
//!    so B is block *lower* triangular. In a crossbar the word lines, driven by voltage
//!    sources, form 2×2 blocks that every cell depends on but that depend on nothing, so the
//!    column ladders become independent blocks and fill stays linear in the number of cells.
//! 2. AMD on A + Aᵀ inside each block (circuit matrices are nearly structurally symmetric).
//!
//! Nested dissection inside blocks was tried (docs/performance.md): its shallower
//! elimination tree did not pay for its extra fill, because every transistor's junction
//! conductances change in every Newton iteration, so refactorization recomputes most
//! columns either way.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::sparse::SymbolicSparseColMatRef;
use faer::sparse::linalg::amd;

use super::{Assembler, SolveError};

const NONE: usize = usize::MAX;

/// Returns the order (`perm[i]` = original index of B's i-th row/column) and, per B index,
/// the end of its block.
pub(super) fn btf_order(asm: &Assembler) -> Result<(Vec<usize>, Vec<usize>), SolveError> {
    let n = asm.n;
    // Row lists (CSR) of the pattern: the graph edges i → j.
    let rows = asm.row_pattern();
    let r_ptr = |i: usize| rows.ptr[i] as usize;
    // Iterative Tarjan.
    let mut index = vec![NONE; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut scc_stack: Vec<usize> = Vec::new();
    let mut call: Vec<(usize, usize)> = Vec::new();
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut blocks: Vec<usize> = vec![0];
    let mut counter = 0usize;
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        call.push((root, r_ptr(root)));
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        scc_stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            if *pos < r_ptr(v + 1) {
                let w = rows.col[*pos] as usize;
                *pos += 1;
                if index[w] == NONE {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    scc_stack.push(w);
                    on_stack[w] = true;
                    call.push((w, r_ptr(w)));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    loop {
                        let w = scc_stack.pop().expect("Tarjan stack holds v");
                        on_stack[w] = false;
                        order.push(w);
                        if w == v {
                            break;
                        }
                    }
                    blocks.push(order.len());
                }
            }
        }
    }
    // AMD inside each block.
    let mut local = vec![NONE; n];
    let mut perm = Vec::with_capacity(n);
    let mut blk_end = vec![0usize; n];
    for b in blocks.windows(2) {
        let nodes = &order[b[0]..b[1]];
        let m = nodes.len();
        blk_end[b[0]..b[1]].fill(b[1]);
        if m <= 2 {
            perm.extend_from_slice(nodes);
            continue;
        }
        for (i, &v) in nodes.iter().enumerate() {
            local[v] = i;
        }
        let mut cp = vec![0usize; m + 1];
        let mut ri = Vec::new();
        for (j, &c) in nodes.iter().enumerate() {
            let start = ri.len();
            for k in asm.col_ptr[c]..asm.col_ptr[c + 1] {
                let r = asm.row_idx[k];
                if local[r] != NONE && nodes.get(local[r]) == Some(&r) {
                    ri.push(local[r]);
                }
            }
            ri[start..].sort_unstable();
            cp[j + 1] = ri.len();
        }
        let mut p = vec![0usize; m];
        let mut pi = vec![0usize; m];
        let sym = SymbolicSparseColMatRef::new_checked(m, m, &cp, None, &ri);
        let mut mem = MemBuffer::try_new(amd::order_scratch::<usize>(m, ri.len()))
            .map_err(|e| SolveError::Backend(format!("{e:?}")))?;
        amd::order(
            &mut p,
            &mut pi,
            sym,
            amd::Control::default(),
            MemStack::new(&mut mem),
        )
        .map_err(|e| SolveError::Backend(format!("{e:?}")))?;
        perm.extend(p.iter().map(|&i| nodes[i]));
    }
    Ok((perm, blk_end))
}
