/**
 * The clock's own queue for timers armed `synchronous` (see SimClock.setTimeout): a binary heap
 * beside fake-timers' heap, ordered exactly as fake-timers would have ordered those timers among
 * all the others, so moving them here changes no timeline.
 *
 * fake-timers fires timers by due time, then by creation order (its `order` counter, which also
 * moves when an interval re-arms). A timer here was created after every fake timer whose order the
 * clock had seen then and before any later one, so it sorts as `lastOrder + 0.5` among fake timers
 * due at the same time, and among its own kind by its creation sequence. The clock keeps
 * `lastOrder` up to date by reading the order of every fake timer it creates or re-arms.
 *
 * Why a queue of its own: ELB health checks arm one synchronous timer per target per interval
 * (840 per instance in a 2-hour refresh). In fake-timers each one costs a timer object, a handle,
 * a Map entry and heap moves in a heap that holds every target; here it costs one reused record.
 */

export interface QueuedTimer {
  readonly id: number;
  callAt: number;
  /** Position among fake timers due at the same time: the last fake order seen, plus 0.5. */
  order: number;
  /** Creation sequence among this queue's timers (breaks ties of `order`). */
  seq: number;
  callback: () => void;
  /** Index in the heap, or -1 once fired or cleared. */
  index: number;
}

/** True when `a` fires before `b`. */
function before(a: QueuedTimer, b: QueuedTimer): boolean {
  if (a.callAt !== b.callAt) return a.callAt < b.callAt;
  if (a.order !== b.order) return a.order < b.order;
  return a.seq < b.seq;
}

export class TimerQueue {
  private readonly heap: QueuedTimer[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): QueuedTimer | undefined {
    return this.heap[0];
  }

  push(timer: QueuedTimer): void {
    timer.index = this.heap.length;
    this.heap.push(timer);
    this.up(timer.index);
  }

  /** Removes and returns the first timer. */
  pop(): QueuedTimer | undefined {
    const first = this.heap[0];
    if (first !== undefined) this.remove(first);
    return first;
  }

  remove(timer: QueuedTimer): void {
    const index = timer.index;
    if (index < 0 || this.heap[index] !== timer) return;
    const last = this.heap.pop() as QueuedTimer;
    timer.index = -1;
    if (last === timer) return;
    this.heap[index] = last;
    last.index = index;
    this.up(index);
    this.down(last.index);
  }

  clear(): void {
    for (const timer of this.heap) timer.index = -1;
    this.heap.length = 0;
  }

  private up(index: number): void {
    const heap = this.heap;
    const timer = heap[index] as QueuedTimer;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as QueuedTimer;
      if (!before(timer, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = timer;
    timer.index = index;
  }

  private down(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const timer = heap[index] as QueuedTimer;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && before(heap[right] as QueuedTimer, heap[left] as QueuedTimer)) child = right;
      const best = heap[child] as QueuedTimer;
      if (!before(best, timer)) break;
      heap[index] = best;
      best.index = index;
      index = child;
    }
    heap[index] = timer;
    timer.index = index;
  }
}
