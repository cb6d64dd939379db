import {
  OwpError,
  type CreateOptions,
  type OwpApi,
  type TaskCreateRequest,
} from '../../protocol/index.ts';

/**
 * The API with one difference: creating a task in a repo the pool does not know creates the repo
 * first, with the pool's defaults. For embedded mode, where the vault owner is the only admin and a
 * repo is just the label their notes carry; asking them to set repos up before their first task
 * note would be a step with nothing to decide. (A shared server keeps refusing unknown repos.)
 */
export function creatingReposOnDemand(api: OwpApi): OwpApi {
  const createTask = async (request: TaskCreateRequest, options?: CreateOptions) => {
    try {
      return await api.createTask(request, options);
    } catch (error) {
      if (!(error instanceof OwpError) || error.code !== 'unknown_repo') throw error;
      await api.upsertRepo({ repo: request.repo });
      return api.createTask(request, options);
    }
  };
  return new Proxy(api, {
    get(target, property) {
      if (property === 'createTask') return createTask;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
