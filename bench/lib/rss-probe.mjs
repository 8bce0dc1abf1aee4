// Preloaded with `node --import` where GNU time is missing: on exit, writes this process's peak
// RSS (kB) to the file named by RUNCUE_BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.RUNCUE_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
