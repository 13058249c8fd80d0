import { getContainerRuntimeClient } from "testcontainers";

/** Undefined when testcontainers can reach a container runtime; otherwise why it cannot. */
export async function containerRuntimeProblem(): Promise<string | undefined> {
  try {
    await getContainerRuntimeClient();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
