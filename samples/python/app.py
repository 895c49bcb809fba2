"""lambdaimg's sample function for Python images (handler: app.handler)."""
import os
import time


def handler(event, context):
    if event.get("fail"):
        raise Exception("failing as asked")
    if event.get("sleepSeconds"):
        time.sleep(event["sleepSeconds"])
    answer = {
        "greeting": "hello " + event.get("name", ""),
        "taskRoot": os.environ.get("LAMBDA_TASK_ROOT", ""),
        "runtimeDir": os.environ.get("LAMBDA_RUNTIME_DIR", ""),
        "handler": os.environ.get("_HANDLER", ""),
        "functionName": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        "tmp": "ok",
    }
    try:
        with open("/tmp/lambdaimg-smoke", "w") as f:
            f.write(event.get("name", ""))
    except OSError as e:
        answer["tmp"] = str(e)
    if event.get("write"):
        with open(event["write"], "w") as f:
            f.write("x")
        answer["written"] = event["write"]
    return answer
