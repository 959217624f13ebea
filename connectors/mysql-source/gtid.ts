/**
 * The GTID position carried in MySQL positions (pure). MariaDB: one `domain-server-seq` per
 * replication domain, the last committed transaction of each (what @@gtid_current_pos shows).
 * MySQL: the GTID of the last committed transaction (streaming resumes by file and position;
 * the GTID is informational there).
 */
export class GtidState {
  private readonly domains = new Map<string, string>();
  private last: string | null = null;
  private pending: string | null = null;

  static parse(text: string | null | undefined): GtidState {
    const state = new GtidState();
    if (!text) return state;
    for (const part of text
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const domain = mariaDomain(part);
      if (domain === null) state.last = part;
      else state.domains.set(domain, part);
    }
    return state;
  }

  /** A transaction with this GTID started. */
  begin(gtid: string): void {
    this.pending = gtid;
  }

  /** The current transaction committed. */
  commit(): void {
    const g = this.pending;
    this.pending = null;
    if (!g) return;
    const domain = mariaDomain(g);
    if (domain === null) this.last = g;
    else this.domains.set(domain, g);
  }

  toString(): string {
    if (this.domains.size > 0) {
      return [...this.domains.entries()]
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([, g]) => g)
        .join(',');
    }
    return this.last ?? '';
  }
}

function mariaDomain(gtid: string): string | null {
  const m = /^(\d+)-\d+-\d+$/.exec(gtid);
  return m ? m[1]! : null;
}
