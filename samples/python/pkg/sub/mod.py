"""A handler in a package, named pkg.sub.mod.handler."""


def handler(event, context):
    return {"form": __name__ + ".handler"}
