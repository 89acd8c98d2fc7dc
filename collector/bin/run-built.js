// Loads a compiled entry point from dist/, with a clear message when the package is not built.
export async function runBuilt(name) {
  try {
    await import(`../dist/bin/${name}.js`);
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(`dist/bin/${name}.js`)) {
      console.error(`${name} is not built yet: run \`npm run build\` at the repository root first.`);
      process.exit(1);
    }
    throw error;
  }
}
