// A callback handler (callback.handler): not async, three parameters; the
// runtime takes the answer from the callback. aws-lambda-ric 4 dropped them.
exports.handler = (event, context, callback) => {
  setTimeout(() => callback(null, { form: "callback" }), 10);
};
