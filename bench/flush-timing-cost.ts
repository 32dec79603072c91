// What mux/flush-timing.ts's sparse/busy choice costs per send, alone (issue 17):
//   node out/bench/flush-timing-cost.js [SENDS_PER_TURN ...]   (default 1 2 10 50)
// A turn of the event loop is simulated by SENDS_PER_TURN callbacks (setImmediate, microtasks
// drained between them, as between socket reads), each sending one frame into a batch; the batch
// is flushed by FlushTiming, or by setImmediate always (batching per turn, no check at all). The
// flush itself only counts frames, so what differs is the scheduling and the check.
// The simulated turns never let the loop wait for events, so FlushTiming (which judges sparse
// traffic from the loop's idle time) runs busy in every row: a lone request's flush is measured
// through the tunnel instead (`npm run bench -- --workload c1`).
import { FlushTiming } from '../mux/flush-timing';

const TURNS = 20_000;
const ROUNDS = 5;

interface Scheduler {
  schedule(): void;
  flushed(frames: number): void;
}

function run(sendsPerTurn: number, make: (flush: () => void) => Scheduler): Promise<{ nsPerSend: number; framesPerFlush: number }> {
  let queued = 0;
  let scheduled = false;
  let flushes = 0;
  let sent = 0;
  const scheduler: Scheduler = make(() => {
    const frames = queued;
    scheduled = false;
    queued = 0;
    if (frames === 0) return;
    flushes++;
    sent += frames;
    scheduler.flushed(frames);
  });
  const send = (): void => {
    queued++;
    if (!scheduled) {
      scheduled = true;
      scheduler.schedule();
    }
  };
  return new Promise((resolve) => {
    let turn = 0;
    const started = process.hrtime.bigint();
    const nextTurn = (): void => {
      if (turn++ === TURNS) {
        const ns = Number(process.hrtime.bigint() - started);
        resolve({ nsPerSend: ns / sent, framesPerFlush: sent / flushes });
        return;
      }
      for (let i = 0; i < sendsPerTurn; i++) setImmediate(send);
      setImmediate(() => setImmediate(nextTurn)); // after this turn's sends and their flush
    };
    nextTurn();
  });
}

const alwaysBatch = (flush: () => void): Scheduler => ({ schedule: () => setImmediate(flush), flushed: () => undefined });
const flushTiming = (flush: () => void): Scheduler => new FlushTiming(flush);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const levels = process.argv.slice(2).map(Number).filter((n) => n > 0);
  console.log('| sends per turn | FlushTiming ns/send | always batch ns/send | difference ns/send | frames per message (FlushTiming / always) |');
  console.log('|---:|---:|---:|---:|---|');
  for (const k of levels.length ? levels : [1, 2, 10, 50]) {
    const timing: number[] = [];
    const always: number[] = [];
    let framesTiming = 0;
    let framesAlways = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const a = await run(k, flushTiming);
      const b = await run(k, alwaysBatch);
      timing.push(a.nsPerSend);
      always.push(b.nsPerSend);
      framesTiming = a.framesPerFlush;
      framesAlways = b.framesPerFlush;
    }
    const t = median(timing);
    const b = median(always);
    console.log(`| ${k} | ${t.toFixed(0)} | ${b.toFixed(0)} | ${(t - b).toFixed(0)} | ${framesTiming.toFixed(1)} / ${framesAlways.toFixed(1)} |`);
  }
}

if (require.main === module) void main();
