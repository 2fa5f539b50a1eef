/** The tests' MLflow server: the one scripts/lib/mlflow-server.ts starts for `npm run loop` too. */
export { freePort, mlflowAvailable, startMlflowServer, type RunningMlflow } from '../../scripts/lib/mlflow-server.js';
