export default async function globalTeardown(): Promise<void> {
  await (globalThis as { crumbtrailTeardown?: () => Promise<void> }).crumbtrailTeardown?.();
}
