/**
 * `npm run conformance`: the OWP API conformance suite against any running server.
 *   OWP_URL=http://127.0.0.1:8787 OWP_ADMIN_TOKEN=… npm run conformance
 * Each test works in a repo of its own (`conformance/<random>`), so a shared server is not disturbed.
 */
import { HttpOwpApi } from '../http-api.ts';
import { runApiContract } from './api.case.test.ts';

const baseUrl = process.env.OWP_URL;
const adminToken = process.env.OWP_ADMIN_TOKEN;
if (!baseUrl || !adminToken) {
  throw new Error('Set OWP_URL and OWP_ADMIN_TOKEN to the server to check.');
}

runApiContract(baseUrl, async () => ({
  admin: new HttpOwpApi({ baseUrl, adminToken }),
  asWorker: (workerToken) => new HttpOwpApi({ baseUrl, workerToken }),
  anonymous: new HttpOwpApi({ baseUrl }),
}));
