// Alignment of two recordings of the same signal: the lag that maximises their
// cross-correlation (found with an FFT), and the normalised correlation there.

/** In-place radix-2 complex FFT (length a power of two); `inverse` without the 1/N. */
function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const a = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(a);
    const wi = Math.sin(a);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const p = i + k;
        const q = p + len / 2;
        const tr = re[q]! * cr - im[q]! * ci;
        const ti = re[q]! * ci + im[q]! * cr;
        re[q] = re[p]! - tr;
        im[q] = im[p]! - ti;
        re[p] = re[p]! + tr;
        im[p] = im[p]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/** Normalised correlation of x against ref[lag .. lag + x.length). */
export function correlationAt(x: Float64Array, ref: Float64Array, lag: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    const y = ref[lag + i] ?? 0;
    xy += x[i]! * y;
    xx += x[i]! * x[i]!;
    yy += y * y;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
}

/** Where x (shorter) sits in ref: the lag (0 .. ref.length - x.length) of the best normalised correlation. */
export function align(x: Float64Array, ref: Float64Array): { lag: number; correlation: number } {
  const maxLag = ref.length - x.length;
  if (maxLag < 0) throw new Error(`the reference (${ref.length}) is shorter than the signal (${x.length})`);
  let n = 1;
  while (n < ref.length + x.length) n <<= 1;
  const ar = new Float64Array(n);
  const ai = new Float64Array(n);
  const br = new Float64Array(n);
  const bi = new Float64Array(n);
  ar.set(ref);
  br.set(x);
  fft(ar, ai);
  fft(br, bi);
  // ref ⋆ x: REF · conj(X)
  for (let k = 0; k < n; k++) {
    const r = ar[k]! * br[k]! + ai[k]! * bi[k]!;
    const i = ai[k]! * br[k]! - ar[k]! * bi[k]!;
    ar[k] = r;
    ai[k] = i;
  }
  fft(ar, ai, true);
  // Normalise by the reference's energy under the window, so a loud stretch does not win by being loud.
  const prefix = new Float64Array(ref.length + 1);
  for (let i = 0; i < ref.length; i++) prefix[i + 1] = prefix[i]! + ref[i]! * ref[i]!;
  let xx = 0;
  for (const v of x) xx += v * v;
  let best = 0;
  let bestScore = -Infinity;
  for (let lag = 0; lag <= maxLag; lag++) {
    const yy = prefix[lag + x.length]! - prefix[lag]!;
    const score = yy > 0 ? ar[lag]! / n / Math.sqrt(xx * yy) : -Infinity;
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return { lag: best, correlation: correlationAt(x, ref, best) };
}
