import { VerdictError } from '../../errors/index.js';

/** NATS subject matching: `*` is one token, `>` (last token only) is one or more tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** True when some subject could match both patterns (JetStream refuses overlapping streams). */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const tx = x[i];
    const ty = y[i];
    if (tx === '>' || ty === '>') return tx !== undefined && ty !== undefined;
    if (tx === undefined || ty === undefined) return tx === ty;
    if (tx !== '*' && ty !== '*' && tx !== ty) return false;
  }
}

/** Rejects what nats-server rejects for a published subject: empty tokens and wildcards. */
export function assertPublishSubject(subject: string): void {
  const tokens = subject.split('.');
  if (subject === '' || tokens.some((t) => t === '' || t === '*' || t === '>' || /\s/.test(t))) {
    throw new VerdictError('INVALID_ARGUMENT', `invalid subject ${JSON.stringify(subject)}`, {
      field: 'subject',
    });
  }
}
