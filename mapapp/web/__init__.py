"""Everything that knows Flask: blueprints (thin), the request's catalogue handle, security
headers, languages, sign-in, the API's HTTP behaviour, embedding and the staff pages.

Views translate HTTP to calls of the working folders (``importing``, ``mapdata``,
``catalogue``) and back; nothing below this folder imports Flask.
"""
