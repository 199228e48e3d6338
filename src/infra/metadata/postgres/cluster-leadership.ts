import pg from 'pg';

export interface ClusterLeadershipOptions {
  /** How often a follower tries to take over (and a broken connection is replaced). */
  readonly retryMs: number;
  /** Called when this process becomes leader (true) or stops being it (false). */
  readonly onChange: (leader: boolean) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Which one of the cluster nodes sharing a schema runs the once-per-cluster work (scheduled
 * scrub, abandoned-upload sweep, orphan sweep, review reminders, WAL-archive alerts): the holder
 * of a session-level advisory lock (PostgreSQL docs, "Advisory Locks") on a connection of its
 * own. A leader that dies loses the lock with its session; a follower retrying every `retryMs`
 * then takes over.
 *
 * Leadership is for economy, not safety: a leader cut off from PostgreSQL keeps believing it
 * leads until its connection reports the break, while another node may already lead. Everything
 * gated by it must therefore also be correct when run twice at once (it is: see the README,
 * "Scale-out"); the leader only avoids doing the work, and raising its alerts, N times.
 */
export class ClusterLeadership {
  readonly #connection: string;
  readonly #lockName: string;
  readonly #options: ClusterLeadershipOptions;
  #client: pg.Client | undefined;
  #leader = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #attempt: Promise<void> | undefined;

  private constructor(connection: string, schema: string, options: ClusterLeadershipOptions) {
    this.#connection = connection;
    this.#lockName = `holdfast:cluster-leader:${schema}`;
    this.#options = options;
  }

  /** Tries once now (so a lone node leads from the start), then every retryMs while a follower. */
  static async start(connection: string, schema: string, options: ClusterLeadershipOptions): Promise<ClusterLeadership> {
    const leadership = new ClusterLeadership(connection, schema, options);
    await leadership.#tryToLead();
    leadership.#timer = setInterval(() => void leadership.#tryToLead(), options.retryMs);
    leadership.#timer.unref();
    return leadership;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#attempt;
    const client = this.#client;
    this.#client = undefined;
    this.#set(false);
    await client?.end().catch(() => undefined);
  }

  #tryToLead(): Promise<void> {
    if (this.#leader || this.#closed || this.#attempt !== undefined) return Promise.resolve();
    this.#attempt = this.#acquire().finally(() => {
      this.#attempt = undefined;
    });
    return this.#attempt;
  }

  async #acquire(): Promise<void> {
    try {
      if (this.#client === undefined) {
        const client = new pg.Client({ connectionString: this.#connection });
        client.on('error', (error) => {
          // The session, and the lock with it, is gone: follow until a retry leads again.
          if (this.#client === client) this.#client = undefined;
          client.end().catch(() => undefined);
          this.#set(false);
          if (!this.#closed) this.#options.onError(error);
        });
        await client.connect();
        this.#client = client;
      }
      const { rows } = await this.#client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [this.#lockName]);
      if (rows[0]?.locked === true && !this.#closed) this.#set(true);
    } catch (error) {
      const client = this.#client;
      this.#client = undefined;
      await client?.end().catch(() => undefined);
      if (!this.#closed) this.#options.onError(error);
    }
  }

  #set(leader: boolean): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    this.#options.onChange(leader);
  }
}
