/** One held sample: the rollout id and whatever the flush needs to publish it. */
export interface GroupMember<T> {
  readonly id: string;
  readonly value: T;
}

/** How a held group ends: all `size` members arrived, or the timeout passed first. */
export type GroupEnd =
  | { readonly kind: 'complete' }
  | { readonly kind: 'timeout'; readonly waitedMs: number };

export interface RerankGroupsOptions<T> {
  /** Longest wait from a group's first held member to publishing whatever is present. */
  readonly timeoutMs: number;
  /**
   * Publishes every member of a released group (members in arrival order, one entry per
   * distinct id). When it resolves, every waiting handler may ack; when it throws, every
   * waiting handler throws too (nak → redelivery; the scored msgId dedupes what was published).
   */
  readonly flush: (groupId: string, members: readonly GroupMember<T>[], end: GroupEnd) => Promise<void>;
}

/** What a held member's handler does next. */
export type HoldResult = 'published' | 'released';

export interface RerankGroups<T> {
  /**
   * Holds a judged member until its group is complete (or times out) and has been published.
   * Resolves 'published' (ack now) or 'released' (closed before publishing: nak, the group is
   * re-judged after redelivery); rejects when the flush failed. A second delivery of an id
   * already held waits on the same publish instead of counting twice.
   */
  hold(groupId: string, size: number, member: GroupMember<T>): Promise<HoldResult>;
  /** Members held now. */
  readonly heldCount: number;
  /** Releases everything held without publishing; later holds release at once. */
  close(): void;
}

interface Waiter {
  resolve(result: HoldResult): void;
  reject(error: unknown): void;
}

interface OpenGroup<T> {
  readonly size: number;
  readonly startedMs: number;
  readonly members: Map<string, { member: GroupMember<T>; waiters: Waiter[] }>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Collects the G judged samples of each group so the rerank term can rank them together. The
 * group is keyed by group id; once released it is forgotten, so a late member opens a new group
 * (which then times out on its own: it is published without rerank, never dropped).
 */
export function createRerankGroups<T>(options: RerankGroupsOptions<T>): RerankGroups<T> {
  const open = new Map<string, OpenGroup<T>>();
  let closed = false;
  let held = 0;

  const release = (groupId: string, group: OpenGroup<T>, end: GroupEnd): void => {
    if (open.get(groupId) !== group) return;
    open.delete(groupId);
    if (group.timer !== undefined) clearTimeout(group.timer);
    const entries = [...group.members.values()];
    const waiters = entries.flatMap((e) => e.waiters);
    held -= waiters.length;
    options
      .flush(
        groupId,
        entries.map((e) => e.member),
        end,
      )
      .then(
        () => {
          for (const w of waiters) w.resolve('published');
        },
        (error: unknown) => {
          for (const w of waiters) w.reject(error);
        },
      );
  };

  return {
    hold(groupId, size, member) {
      if (closed) return Promise.resolve('released');
      let group = open.get(groupId);
      if (group === undefined) {
        const g: OpenGroup<T> = { size, startedMs: Date.now(), members: new Map(), timer: undefined };
        g.timer = setTimeout(
          () => release(groupId, g, { kind: 'timeout', waitedMs: Date.now() - g.startedMs }),
          options.timeoutMs,
        );
        open.set(groupId, g);
        group = g;
      }
      const g = group;
      return new Promise<HoldResult>((resolve, reject) => {
        held++;
        const entry = g.members.get(member.id);
        if (entry === undefined) g.members.set(member.id, { member, waiters: [{ resolve, reject }] });
        else entry.waiters.push({ resolve, reject });
        if (g.members.size >= g.size) release(groupId, g, { kind: 'complete' });
      });
    },
    get heldCount() {
      return held;
    },
    close() {
      closed = true;
      for (const group of open.values()) {
        if (group.timer !== undefined) clearTimeout(group.timer);
        for (const entry of group.members.values()) for (const w of entry.waiters) w.resolve('released');
      }
      open.clear();
      held = 0;
    },
  };
}
