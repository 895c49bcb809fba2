# lambdaimg's sample function for Ruby images (handler: app.handler).
def handler(event:, context:)
  raise 'failing as asked' if event['fail']

  sleep(event['sleepSeconds']) if event['sleepSeconds']
  answer = {
    'greeting' => "hello #{event['name']}",
    'taskRoot' => ENV.fetch('LAMBDA_TASK_ROOT', ''),
    'runtimeDir' => ENV.fetch('LAMBDA_RUNTIME_DIR', ''),
    'handler' => ENV.fetch('_HANDLER', ''),
    'functionName' => ENV.fetch('AWS_LAMBDA_FUNCTION_NAME', ''),
    'tmp' => 'ok'
  }
  begin
    File.write('/tmp/lambdaimg-smoke', event['name'].to_s)
  rescue SystemCallError => e
    answer['tmp'] = e.message
  end
  if event['write']
    File.write(event['write'], 'x')
    answer['written'] = event['write']
  end
  answer
end
