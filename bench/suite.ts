/** Every benchmark, in the order a run takes them (the numbering is kept in the titles). */
import type { Benchmark } from "./framework/benchmark";
import { cacheModesBenchmark } from "./cache-modes/benchmark";
import { copyFreeBenchmark } from "./copy-free/benchmark";
import { dataPathBenchmark } from "./data-path/benchmark";
import { deploymentsBenchmark } from "./deployments/benchmark";
import { eventWaitsBenchmark } from "./event-waits/benchmark";
import { replicationBenchmark } from "./replication/benchmark";
import { scaleBenchmark } from "./scale/benchmark";

export const allBenchmarks: Benchmark[] = [deploymentsBenchmark, copyFreeBenchmark, eventWaitsBenchmark, dataPathBenchmark, scaleBenchmark, cacheModesBenchmark, replicationBenchmark];
