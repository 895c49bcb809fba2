// A Lambda function for lambdaimg's tests: greets by name, throws on request.
exports.handler = async (event) => {
  if (event.fail) {
    throw new Error("failing as asked");
  }
  return {
    greeting: `hello ${event.name}`,
    taskRoot: process.env.LAMBDA_TASK_ROOT,
    handler: process.env._HANDLER,
    node: process.version,
  };
};
