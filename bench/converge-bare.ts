/**
 * The floor of the converge benchmark: a bare dockerode loop, no planning, no records: the app
 * networks, then create + start of every container, 8 at a time (moor's engine-call limit), with
 * the very bodies moor's live layer sends (`createBody` of the planner's configs).
 */
import type Dockerode from "dockerode"
import { createBody } from "../adapters/docker/create-body.ts"
import { docker, pool, type Workload } from "./converge-workload.ts"

export const CONCURRENCY = 8

export const bareConverge = async (w: Workload): Promise<number> => {
  const t0 = performance.now()
  await pool(w.networks, CONCURRENCY, (n) =>
    docker.createNetwork({ Name: n.name, CheckDuplicate: true, Labels: { ...n.labels } })
  )
  await pool(w.containers, CONCURRENCY, async (c) => {
    const { body } = createBody(c)
    const options = structuredClone({ name: c.name, ...body }) as Dockerode.ContainerCreateOptions
    const container = await docker.createContainer(options)
    await container.start()
  })
  return performance.now() - t0
}
