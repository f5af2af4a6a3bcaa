// ESM entry: the same module instance as `require("s3twin")`, so one shared server per process.
import cjs from "./index.cjs";

export const {
  S3Server,
  Clone,
  s3,
  findBinary,
  platformTriple,
  refuseProduction,
  refusalMiddleware,
  looksLikeProductionKeys,
  ProductionCallRefused,
} = cjs;
export default cjs;
