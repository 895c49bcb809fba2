"""lambdaimg's sample function for Python images (handler: app.handler).

Events with "check" ask about a behaviour of AWS's runtime; the others
exercise the response, /tmp, the read-only root, errors and the timeout.
"""
import os
import sys
import time


def handler(event, context):
    check = event.get("check")
    if check:
        return CHECKS[check](context)
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


def check_context(context):
    timeout_ms = int(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "300")) * 1000
    left = context.get_remaining_time_in_millis()
    remaining = "ok"
    if not 0 < left <= timeout_ms:
        remaining = "%d ms left, want within (0, %d]" % (left, timeout_ms)
    return {
        "requestId": context.aws_request_id,
        "functionName": context.function_name,
        "functionArn": context.invoked_function_arn,
        "memoryLimitMB": context.memory_limit_in_mb,
        "remaining": remaining,
    }


def check_env(context):
    return {"AWS_EXECUTION_ENV": os.environ.get("AWS_EXECUTION_ENV", "")}


def check_paths(context):
    # AWS's runtime puts a layer's python/ and its site-packages for this
    # Python version on sys.path.
    version = "%d.%d" % sys.version_info[:2]
    want = ["/opt/python/lib/python%s/site-packages" % version, "/opt/python"]
    missing = [p for p in want if p not in sys.path]
    if missing:
        return {"paths": "missing %s in sys.path %s" % (missing, sys.path)}
    return {"paths": "ok"}


def check_layer(context):
    try:
        import lambdaimg_sample_layer
    except ImportError as e:
        return {"layer": "not found: %s (sys.path %s)" % (e, sys.path)}
    return {"layer": lambdaimg_sample_layer.NAME}


def check_wrapper(context):
    return {"wrapped": os.environ.get("LAMBDAIMG_WRAPPED", "no")}


CHECKS = {
    "context": check_context,
    "env": check_env,
    "paths": check_paths,
    "layer": check_layer,
    "wrapper": check_wrapper,
}
