class ChineseUnlessChosenMiddleware:
    """The portal speaks Chinese (zh-hans) until the user chooses English with the language switcher
    (the language cookie). The browser's Accept-Language is not consulted: a government service keeps
    one default, and an English-language browser on a Chinese desktop must not switch it on its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
