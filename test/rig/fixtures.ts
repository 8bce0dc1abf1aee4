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
