// lambdaimg's sample function for Node.js images (handler: index.handler).
const fs = require("fs");

exports.handler = async (event) => {
  if (event.fail) {
    throw new Error("failing as asked");
  }
  if (event.sleepSeconds) {
    await new Promise((resolve) => setTimeout(resolve, event.sleepSeconds * 1000));
  }
  const answer = {
    greeting: `hello ${event.name || ""}`,
    taskRoot: process.env.LAMBDA_TASK_ROOT || "",
    runtimeDir: process.env.LAMBDA_RUNTIME_DIR || "",
    handler: process.env._HANDLER || "",
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME || "",
    tmp: "ok",
  };
  try {
    fs.writeFileSync("/tmp/lambdaimg-smoke", event.name || "");
  } catch (e) {
    answer.tmp = e.message;
  }
  if (event.write) {
    fs.writeFileSync(event.write, "x");
    answer.written = event.write;
  }
  return answer;
};
