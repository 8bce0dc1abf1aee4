/** Projects several end-to-end test files build on. */

/**
 * Two tasks in a chain (`src/{name}.txt -> work/{name}.up -> out/{name}.md`); every command
 * appends `task:name` to runs.log, so a test sees exactly which units ran.
 */
export const CHAIN_CONFIG = `export default {
  tasks: {
    upper: {
      input: 'src/{name}.txt',
      output: 'work/{name}.up',
      run: "tr a-z A-Z < {input} > {output} && echo upper:{name} >> runs.log",
    },
    wrap: {
      input: 'work/{name}.up',
      output: 'out/{name}.md',
      run: "printf '# %s' \\"$(cat {input})\\" > {output} && echo wrap:{name} >> runs.log",
    },
  },
};
`;

/**
 * A config whose task `f` (`in/{n}.txt -> out/{n}.txt`) is a function that runs `sh -c script`
 * with node:child_process, as function tasks do: in the project's directory, its output as `$1`,
 * the function's abort signal passed on (which stops `sh` alone), resolving when sh exits 0.
 * `extra`: more keys of the task (a timeout).
 */
export function functionRunningSh(script: string, extra = ''): string {
  return `import { spawn } from 'node:child_process';
    export default {
      killGrace: '1s',
      tasks: {
        f: {
          input: 'in/{n}.txt',
          output: 'out/{n}.txt',${extra}
          run: ({ output }, { signal }) => new Promise((resolve, reject) => {
            const script = ${JSON.stringify(script)};
            const child = spawn('sh', ['-c', script, 'sh', output], { cwd: import.meta.dirname, signal, stdio: 'ignore' });
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error('exit ' + code))));
          }),
        },
      },
    };`;
}
