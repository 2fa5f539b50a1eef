/**
 * An ONNX graph loaded for serving, whose run answers in the same event-loop turn.
 *
 * onnxruntime-node (1.30) runs a graph on the calling thread either way: its `InferenceSession.run` makes the same
 * synchronous native call, only after a `setImmediate` (microsoft/onnxruntime#26968; a `runSync` is proposed upstream
 * in #27604 and #28646, not released). The API already gathers one turn's requests into one run (service.ts), so that
 * deferral only holds every request one turn longer: the requests read meanwhile wait behind it, and the garbage
 * collector copies them all once more. Calling the native session directly, as the package's own run does, gave this
 * host ~25 % more single-row throughput (README, Performance). This module is the only place that does so; a test
 * checks it against the package's public run.
 */
import { Tensor, type InferenceSession, type OnnxValue } from 'onnxruntime-node';
import { binding, initOrt, type Binding } from 'onnxruntime-node/dist/binding.js';

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Run the graph now, on this thread; `outputs`: the output names wanted (all by default). Throws what onnxruntime throws. */
  run(feeds: Readonly<Record<string, Tensor>>, outputs?: readonly string[]): Record<string, OnnxValue>;
  /** Free the native session; later runs throw. Never throws itself (it runs when a retired model's last run ends). */
  release(): void;
}

/** Load a graph from a file (throws onnxruntime's error when it cannot). */
export function loadOnnxSession(modelPath: string, options: InferenceSession.SessionOptions): OnnxSession {
  initOrt();
  const native: Binding.InferenceSession = new binding.InferenceSession();
  native.loadModel(modelPath, options);
  const inputNames = native.inputMetadata.map((m) => m.name);
  const outputNames = native.outputMetadata.map((m) => m.name);
  const noOptions = {};
  let released = false;
  return {
    inputNames,
    outputNames,
    run(feeds, outputs = outputNames) {
      const fetches: Record<string, null> = {};
      for (const name of outputs) {
        if (!outputNames.includes(name)) throw new RangeError(`the graph has no output '${name}' (has ${outputNames.join(', ')})`);
        fetches[name] = null;
      }
      const results = native.run(feeds, fetches, noOptions);
      // The binding returns onnxruntime-common Tensors (it is given their constructor at init), as the public run does.
      for (const name of outputs) {
        const value = results[name];
        if (!(value instanceof Tensor)) throw new TypeError(`onnxruntime returned no tensor for output '${name}'`);
      }
      return results;
    },
    release: () => {
      if (released) return;
      released = true;
      try {
        native.dispose();
      } catch {
        // Nothing to do: the session is unusable either way, and the caller is finishing other work.
      }
    },
  };
}
