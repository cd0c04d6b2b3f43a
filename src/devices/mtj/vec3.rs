//! Minimal 3-vector arithmetic on `[f64; 3]` (no linear-algebra crate is needed for a
//! macrospin; keeping the vectors as plain arrays lets the batch store them as SoA).

/// A 3-vector.
pub type V3 = [f64; 3];

/// `a · b`.
#[inline(always)]
pub fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// `a × b`.
#[inline(always)]
pub fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `a + b`.
#[inline(always)]
pub fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// `a − b`.
#[inline(always)]
pub fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// `s · a`.
#[inline(always)]
pub fn scale(s: f64, a: V3) -> V3 {
    [s * a[0], s * a[1], s * a[2]]
}

/// `a + s · b` (axpy).
#[inline(always)]
pub fn axpy(a: V3, s: f64, b: V3) -> V3 {
    [a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]]
}

/// Euclidean norm.
#[inline(always)]
pub fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

/// `a / |a|`; returns `a` unchanged when it is the zero vector.
#[inline(always)]
pub fn normalize(a: V3) -> V3 {
    let n = norm(a);
    if n > 0.0 { scale(1.0 / n, a) } else { a }
}

/// 3×3 matrix, row-major: `m[i][j]`.
pub type M3 = [[f64; 3]; 3];

/// Matrix–vector product.
#[inline]
pub fn mat_vec(m: &M3, v: V3) -> V3 {
    [dot(m[0], v), dot(m[1], v), dot(m[2], v)]
}

/// Cross-product matrix `[a]×` with `[a]× v = a × v`.
#[inline]
pub fn skew(a: V3) -> M3 {
    [[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]]
}

/// Outer product `a ⊗ b` (`(a ⊗ b)_ij = a_i b_j`).
#[inline]
pub fn outer(a: V3, b: V3) -> M3 {
    [scale(a[0], b), scale(a[1], b), scale(a[2], b)]
}

/// Matrix product `a · b`.
#[inline]
pub fn mat_mul(a: &M3, b: &M3) -> M3 {
    let mut c = [[0.0; 3]; 3];
    for (i, row) in c.iter_mut().enumerate() {
        for (j, cij) in row.iter_mut().enumerate() {
            *cij = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
        }
    }
    c
}

/// `Σ s_k · m_k` for matrices.
#[inline]
pub fn mat_lin(terms: &[(f64, &M3)]) -> M3 {
    let mut c = [[0.0; 3]; 3];
    for (s, m) in terms {
        for i in 0..3 {
            for j in 0..3 {
                c[i][j] += s * m[i][j];
            }
        }
    }
    c
}

/// Transpose.
#[inline]
pub fn transpose(a: &M3) -> M3 {
    [
        [a[0][0], a[1][0], a[2][0]],
        [a[0][1], a[1][1], a[2][1]],
        [a[0][2], a[1][2], a[2][2]],
    ]
}

/// Identity matrix scaled by `s`.
#[inline]
pub fn diag_s(s: f64) -> M3 {
    [[s, 0.0, 0.0], [0.0, s, 0.0], [0.0, 0.0, s]]
}
